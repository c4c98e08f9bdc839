"""A short name for the browser behind a session ("Firefox · Linux"), from the User-Agent header it signed in with.

Only for a person to recognise their own devices in the sessions list: the header is whatever the client sent, so
it decides nothing.
"""

from __future__ import annotations

# Order matters: Edge, Opera and Samsung also say "Chrome", Chrome also says "Safari", Android also says "Linux".
BROWSERS = (
    ("Edg/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chrome/", "Chrome"),  # HeadlessChrome/ too
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def _first(table: tuple[tuple[str, str], ...], user_agent: str) -> str:
    return next((name for marker, name in table if marker in user_agent), "")


def browser_name(user_agent: str | None) -> str:
    """ "Chrome · Windows", "Safari · iOS", "Firefox"; "" when neither is recognised."""
    if not user_agent:
        return ""
    return " · ".join(part for part in (_first(BROWSERS, user_agent), _first(SYSTEMS, user_agent)) if part)
