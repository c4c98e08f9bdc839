"""English. One catalog, kept in modules by area (shell, numbers, conversations, personas, metrics, outreach, settings) and service errors."""

from mirage_app.i18n.en.alerts import ALERTS
from mirage_app.i18n.en.conversations import CONVERSATIONS
from mirage_app.i18n.en.errors import ERRORS
from mirage_app.i18n.en.media_errors import MEDIA_ERRORS
from mirage_app.i18n.en.metrics import METRICS
from mirage_app.i18n.en.numbers import NUMBERS
from mirage_app.i18n.en.outreach import OUTREACH
from mirage_app.i18n.en.personas import PERSONAS
from mirage_app.i18n.en.platform import PLATFORM
from mirage_app.i18n.en.reasons import REASONS
from mirage_app.i18n.en.rich_actions import RICH_ACTIONS
from mirage_app.i18n.en.safety import SAFETY
from mirage_app.i18n.en.settings import SETTINGS
from mirage_app.i18n.en.shell import SHELL

CATALOG: dict[str, str] = {
    **SHELL,
    **NUMBERS,
    **CONVERSATIONS,
    **PERSONAS,
    **METRICS,
    **OUTREACH,
    **SETTINGS,
    **SAFETY,
    **REASONS,
    **RICH_ACTIONS,
    **ERRORS,
    **MEDIA_ERRORS,
    **ALERTS,
    **PLATFORM,
}
