"""How moments, days and counts read in each language, in the tenant's time zone. Pure: no I/O, no state.

Every time a screen or an export shows goes through `stamp` (or `day` / `clock`) with the tenant's zone, so one
moment reads the same on every page. Month names come from here rather than the process locale, which a server
does not set per request.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {
    "pt-BR": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
DASH = "—"


def _months(locale: str) -> tuple[str, ...]:
    return MONTHS["en"] if locale == "en" else MONTHS["pt-BR"]


def tz_of(tz_name: str | None) -> ZoneInfo:
    """The tenant's zone; UTC when the name is unknown (a stamp must never fail a page)."""
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def local(when: datetime, tz_name: str | None) -> datetime:
    return when.astimezone(tz_of(tz_name))


def day(value: date | datetime | None, locale: str, tz_name: str | None = None, year: bool = False) -> str:
    """ "29 nov" in pt-BR, "Nov 29" in English (with the year when asked: "29 nov 2026", "Nov 29, 2026")."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = local(value, tz_name).date()
    month = _months(locale)[value.month - 1]
    if locale == "en":
        return f"{month} {value.day}, {value.year}" if year else f"{month} {value.day}"
    return f"{value.day} {month} {value.year}" if year else f"{value.day} {month}"


def clock(when: datetime | None, tz_name: str | None, seconds: bool = False) -> str:
    """ "21:28" (or "21:28:05") in the tenant's zone."""
    if when is None:
        return DASH
    return local(when, tz_name).strftime("%H:%M:%S" if seconds else "%H:%M")


def stamp(
    when: datetime | None,
    tz_name: str | None,
    locale: str,
    *,
    seconds: bool = False,
    year: bool = False,
    now: datetime | None = None,
) -> str:
    """A moment as the operator reads it: "6 dez 21:28" / "Dec 6 21:28" in the tenant's zone ("—" for none).

    With `now`, today's and yesterday's moments read as the time alone and "ontem 21:28" / "yesterday 21:28"."""
    if when is None:
        return DASH
    at = local(when, tz_name)
    time_part = clock(when, tz_name, seconds)
    if now is not None:
        today = local(now, tz_name).date()
        if at.date() == today:
            return time_part
        if at.date() == today - timedelta(days=1):
            return f"{'yesterday' if locale == 'en' else 'ontem'} {time_part}"
    return f"{day(at.date(), locale, year=year)} {time_part}"


def iso_local(when: datetime | None, tz_name: str | None) -> str:
    """For exports: ISO 8601 with the tenant's offset ("2026-12-06T21:28:00-03:00"), "" for none."""
    return local(when, tz_name).isoformat(timespec="seconds") if when is not None else ""


def zone_label(tz_name: str | None, at: datetime) -> str:
    """ "America/Sao_Paulo (UTC−03:00)": the zone every time on screen is in."""
    tz = tz_of(tz_name)
    offset = at.astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, mins = divmod(abs(minutes), 60)
    return f"{tz.key} (UTC{sign}{hours:02d}:{mins:02d})"


def count(tr: dict[str, str], key: str, n: int) -> str:
    """A count with its noun in the right number: `key.one` for 1, `key.other` otherwise ("{n}" in both)."""
    text = tr.get(f"{key}.one" if n == 1 else f"{key}.other") or tr.get(key) or key
    return text.format(n=n)


def label(tr: dict[str, str], kind: str, value: object) -> str:
    """The words for an enum value (`status.connected` → "Conectado"). An unknown value reads as "—" rather than
    leaking a raw identifier; tests render every state and check that no value falls through."""
    raw = getattr(value, "value", value)
    if raw is None or raw == "":
        return DASH
    return tr.get(f"{kind}.{raw}", DASH)
