import phonenumbers
from django.utils.translation import gettext as _

from satupintu.core.errors import InvalidInput


def normalise_phone(value: str, *, strict: bool = True) -> str | None:
    """'0812-3456-7890' or '+62 812 3456 7890' → '+6281234567890' (Indonesian numbers only)."""
    try:
        number = phonenumbers.parse((value or "").strip(), "ID")
        ok = phonenumbers.is_valid_number(number) and number.country_code == 62
    except phonenumbers.NumberParseException:
        ok = False
    if not ok:
        if strict:
            raise InvalidInput(_("Nomor HP tidak valid; gunakan nomor Indonesia, mis. 0812… atau +62812…."), code="phone_invalid")
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
