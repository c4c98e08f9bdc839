"""Português (Brasil). One catalog, kept in modules by area (shell, numbers, conversations, personas, metrics, outreach, settings) and service errors."""

from mirage_app.i18n.pt_br.alerts import ALERTS
from mirage_app.i18n.pt_br.conversations import CONVERSATIONS
from mirage_app.i18n.pt_br.errors import ERRORS
from mirage_app.i18n.pt_br.media_errors import MEDIA_ERRORS
from mirage_app.i18n.pt_br.metrics import METRICS
from mirage_app.i18n.pt_br.numbers import NUMBERS
from mirage_app.i18n.pt_br.outreach import OUTREACH
from mirage_app.i18n.pt_br.personas import PERSONAS
from mirage_app.i18n.pt_br.platform import PLATFORM
from mirage_app.i18n.pt_br.reasons import REASONS
from mirage_app.i18n.pt_br.rich_actions import RICH_ACTIONS
from mirage_app.i18n.pt_br.safety import SAFETY
from mirage_app.i18n.pt_br.settings import SETTINGS
from mirage_app.i18n.pt_br.shell import SHELL

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
