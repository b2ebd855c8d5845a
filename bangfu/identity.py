"""Format rules for personal identifiers: the 18-digit national ID (GB 11643-1999) and mobile
numbers.

Pure functions; used by the generator, import validation and the API alike.
"""

from __future__ import annotations

import re
from datetime import date

# GB 11643 / ISO 7064 MOD 11-2: weights of the first 17 digits and the check character for
# each remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_NATIONAL_ID = re.compile(r"^\d{17}[\dX]$")
# Mainland mobile numbers: 11 digits, 1 then a network digit 3-9.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class IdentifierError(ValueError):
    """An identifier breaks its format; the message never contains the identifier itself."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_digit(first17: str) -> str:
    """The 18th character of a national ID whose first 17 digits are given."""
    if len(first17) != 17 or not first17.isdigit():
        raise IdentifierError("bad_length", "need exactly 17 digits to compute a check digit")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_national_id(value: str) -> str:
    """Return the normalised ID (upper-case X) or raise IdentifierError with a stable code."""
    candidate = value.strip().upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", candidate):
        raise IdentifierError(
            "scientific_notation", "ID number was turned into scientific notation by a spreadsheet"
        )
    if not _NATIONAL_ID.match(candidate):
        raise IdentifierError("bad_format", "ID number must be 17 digits followed by a digit or X")
    try:
        date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        raise IdentifierError(
            "bad_birth_date", "ID number holds an impossible birth date"
        ) from None
    if check_digit(candidate[:17]) != candidate[17]:
        raise IdentifierError("bad_check_digit", "ID number check digit does not match")
    return candidate


def make_national_id(region6: str, birth: date, sequence: int) -> str:
    """A valid ID: 6-digit county code, birth date, 3-digit sequence (odd = male), check digit."""
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0..999")
    first17 = f"{region6}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def validate_phone(value: str) -> str:
    candidate = value.strip().replace(" ", "").replace("-", "")
    if not _MOBILE.match(candidate):
        raise IdentifierError("bad_phone", "phone must be an 11-digit mobile number starting 13-19")
    return candidate


def mask_national_id(value: str) -> str:
    """Officials' view: first 6 and last 4 characters, the rest starred."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_value(value: str) -> str:
    """Mask any value for an error report: keep at most the first 2 and last 2 characters."""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]
