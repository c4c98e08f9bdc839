"""Status posts: on which days a number posts one, at what local time, whether it is a picture, and what it says.

A person posts on some days and not others, at their own time of day: the day's draw is seeded by the number and
the local date, so the periodic job may ask every few minutes and always gets the same answer for that day.
"""

from __future__ import annotations

import random
from datetime import date, time

from mirage_app.logic.actions import IMAGE, STATUS, ActionRules, Habits
from mirage_app.logic.reputation import may_take

_LINES: dict[str, tuple[str, ...]] = {
    "pt-BR": (
        "Bom dia ☀️", "Sextou! 🎉", "Café e foco ☕", "Gratidão por hoje 🙏", "Domingo de família 💛",
        "Chuva lá fora, série aqui dentro 🌧️", "Semana começando com tudo 💪", "Que dia bonito hoje",
        "Hora do almoço 😋", "Partiu academia 🏋️",
    ),
    "en": (
        "Good morning ☀️", "Friday at last! 🎉", "Coffee and focus ☕", "Grateful for today 🙏",
        "Family Sunday 💛", "Rain outside, series inside 🌧️", "New week, let's go 💪", "What a lovely day",
        "Lunch time 😋", "Off to the gym 🏋️",
    ),
}  # fmt: skip

EARLIEST, LATEST = 9 * 60, 20 * 60  # people post between 09:00 and 20:00 local time
PICTURE_SHARE = 0.4  # of a number's status posts, a picture with the day's line as its caption


def post_time(
    habits: Habits, rules: ActionRules, warm_day: int, band: str | None, number_id: object, day: date
) -> time | None:
    """The local time this number posts its status on `day`, or None when it does not post that day (or its phase
    rules or reputation band do not allow status posts)."""
    if not may_take(STATUS, rules, warm_day, band):
        return None
    rng = random.Random(f"{number_id}|{day.isoformat()}|status")
    if rng.random() >= habits.status_posts:
        return None
    minute = rng.randrange(EARLIEST, LATEST)
    return time(minute // 60, minute % 60)


def status_line(locale: str | None, number_id: object, day: date) -> str:
    lines = _LINES.get(locale or "pt-BR") or _LINES["pt-BR"]
    return lines[random.Random(f"{number_id}|{day.isoformat()}|line").randrange(len(lines))]


def with_picture(rules: ActionRules, warm_day: int, band: str | None, number_id: object, day: date) -> bool:
    """Whether the day's post is a picture (when pictures are allowed at all; the caller still needs one)."""
    if not may_take(IMAGE, rules, warm_day, band):
        return False
    return random.Random(f"{number_id}|{day.isoformat()}|picture").random() < PICTURE_SHARE
