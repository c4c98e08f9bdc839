"""External contacts: one module per concern, every public name re-exported here (`contacts.create_contact`, ...).

`validation` holds the field rules and limits (one canonical E.164 form per number), `records` the read views and
create / list / update / retag / delete, `consent` the LGPD consent records, `suppression_commands` the operator's
suppress / lift / list commands on the suppression list (which lives in `engine.suppression`), `csv_import` the
CSV import with its per-row error report and progress, `csv_export` the CSV export, `data_rights` one person's
export and `erasure` their erasure (LGPD Art. 18). Shared by the `/contacts`
page and `/api/contacts`.
"""

from mirage_app.services.contacts.consent import revoke_consent, set_consent
from mirage_app.services.contacts.csv_export import EXPORT_COLUMNS, export_csv
from mirage_app.services.contacts.csv_import import (
    HEADER_ALIASES,
    IMPORT_BATCH,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportRowError,
    import_csv,
    read_csv,
)
from mirage_app.services.contacts.data_rights import SECTIONS, PersonalData, export_person
from mirage_app.services.contacts.erasure import ErasureReport, erase_person, erasure_impact
from mirage_app.services.contacts.records import (
    ContactPage,
    ContactView,
    add_tags,
    all_tags,
    contact_impact,
    create_contact,
    delete_contact,
    get_contact,
    list_contacts,
    remove_tags,
    update_contact,
)
from mirage_app.services.contacts.suppression_commands import (
    SuppressionView,
    lift_suppression,
    list_suppressions,
    suppress,
)
from mirage_app.services.contacts.validation import (
    CONSENT_BASES,
    CONSENT_FILTERS,
    MAX_NAME,
    MAX_NOTES,
    MAX_PAGE,
    MAX_SOURCE,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    UNSET,
    clean_tags,
    normalise_phone,
    split_tags,
)

__all__ = [
    "CONSENT_BASES",
    "CONSENT_FILTERS",
    "EXPORT_COLUMNS",
    "HEADER_ALIASES",
    "IMPORT_BATCH",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_NAME",
    "MAX_NOTES",
    "MAX_PAGE",
    "MAX_SOURCE",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "SECTIONS",
    "UNSET",
    "ContactPage",
    "ContactView",
    "ErasureReport",
    "ImportReport",
    "ImportRowError",
    "PersonalData",
    "SuppressionView",
    "add_tags",
    "all_tags",
    "clean_tags",
    "contact_impact",
    "create_contact",
    "delete_contact",
    "erase_person",
    "erasure_impact",
    "export_csv",
    "export_person",
    "get_contact",
    "import_csv",
    "lift_suppression",
    "list_contacts",
    "list_suppressions",
    "normalise_phone",
    "read_csv",
    "remove_tags",
    "revoke_consent",
    "set_consent",
    "split_tags",
    "suppress",
    "update_contact",
]
