"""Phone numbers: E.164 normalisation (default region BR), Brazil's ninth digit, WhatsApp JIDs.

Brazilian mobiles gained a leading 9 (8 -> 9 subscriber digits) in 2012–2016, yet WhatsApp still reports many
older accounts without it ("551187654321@s.whatsapp.net") and spreadsheets carry both forms. Mirage stores ONE
canonical form, with the 9, so the same person is never two contacts (and an opt-out always matches);
`br_variants` gives both spellings for matching inbound JIDs.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

BR_COUNTRY_CODE = 55
MAX_RAW_LENGTH = 64
JID_USER_DOMAINS = ("s.whatsapp.net", "c.us")

_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "invalid_length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
}
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}


class InvalidPhone(ValueError):
    """A number that cannot be a WhatsApp number; `reason` is a short machine-readable code for reports."""

    def __init__(self, reason: str, raw: str = "") -> None:
        super().__init__(f"invalid phone number ({reason}): {raw!r}")
        self.reason = reason
        self.raw = raw


def _br_with_nine(national: int) -> int | None:
    """The 9-digit form of an 8-digit Brazilian mobile (area code + subscriber starting 6–9), else None."""
    digits = str(national)
    if len(digits) == 10 and digits[2] in "6789":
        return int(f"{digits[:2]}9{digits[2:]}")
    return None


def _canonical(number: PhoneNumber) -> PhoneNumber:
    if number.country_code == BR_COUNTRY_CODE:
        with_nine = _br_with_nine(number.national_number)
        if with_nine is not None:
            return PhoneNumber(country_code=BR_COUNTRY_CODE, national_number=with_nine)
    return number


def normalise_e164(raw: str, default_region: str = "BR") -> str:
    """Canonical E.164 ("+5511987654321") for any common spelling: "+55 (11) 98765-4321", "11987654321",
    "011 98765-4321", "5511987654321", and the old 8-digit mobile form "1187654321".

    Raises InvalidPhone with reason empty / too_long / not_a_number / invalid_country_code / too_short /
    invalid_length / invalid_number.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty", raw)
    if len(text) > MAX_RAW_LENGTH:
        raise InvalidPhone("too_long", raw)
    if any(char.isalpha() for char in text):  # vanity letters would be silently mapped to digits
        raise InvalidPhone("not_a_number", raw)
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidPhone(_PARSE_REASONS.get(exc.error_type, "not_a_number"), raw) from exc
    number = _canonical(number)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise InvalidPhone(_POSSIBLE_REASONS.get(possible, "invalid_number"), raw)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid_number", raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def br_variants(e164: str) -> tuple[str, ...]:
    """Every spelling WhatsApp may use for this number, canonical first: Brazilian 9-digit mobiles give
    (with 9, without 9); anything else just itself."""
    canonical = normalise_e164(e164)
    digits = canonical.removeprefix("+")
    national = digits[2:]
    if digits.startswith(str(BR_COUNTRY_CODE)) and len(national) == 11 and national[2] == "9":
        return canonical, f"+{BR_COUNTRY_CODE}{national[:2]}{national[3:]}"
    return (canonical,)


def jid_to_e164(jid: str) -> str | None:
    """ "5511987654321@s.whatsapp.net" (or with a ":device" suffix) -> canonical E.164.

    None for JIDs that are not a phone number (@lid, @g.us groups, broadcasts, newsletters) or are malformed;
    inbound data is never trusted enough to raise on.
    """
    user, sep, domain = (jid or "").strip().partition("@")
    if not sep or domain.lower() not in JID_USER_DOMAINS:
        return None
    user = user.split(":", 1)[0]
    if not user.isdigit():
        return None
    try:
        return normalise_e164(f"+{user}")
    except InvalidPhone:
        return None


def e164_digits(e164: str) -> str:
    """Digits only, country code first ("5511987654321"): the `number` field Evolution's send routes take."""
    if not e164.startswith("+") or not e164[1:].isdigit():
        raise InvalidPhone("not_e164", e164)
    return e164[1:]
