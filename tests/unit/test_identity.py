from __future__ import annotations

from datetime import date

import pytest

from bangfu.identity import (
    IdentifierError,
    check_digit,
    make_national_id,
    mask_national_id,
    mask_phone,
    validate_national_id,
    validate_phone,
)


def test_check_digit_matches_published_example() -> None:
    # The worked example of GB 11643-1999: 11010519491231002 -> X.
    assert check_digit("11010519491231002") == "X"
    assert validate_national_id("11010519491231002x") == "11010519491231002X"


def test_made_ids_validate_and_encode_birth_and_sex() -> None:
    nid = make_national_id("440223", date(1975, 3, 9), 101)
    assert validate_national_id(nid) == nid
    assert nid[6:14] == "19750309"
    assert int(nid[16]) % 2 == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("440223197503091012", "bad_check_digit"),
        ("4.40223E+17", "scientific_notation"),
        ("44022319750309101", "bad_format"),
        ("440223197502301015", "bad_birth_date"),
    ],
)
def test_bad_ids_raise_stable_codes_without_echoing_the_value(value: str, code: str) -> None:
    if code == "bad_check_digit":
        good = make_national_id("440223", date(1975, 3, 9), 101)
        value = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(IdentifierError) as info:
        validate_national_id(value)
    assert info.value.code == code
    assert value not in str(info.value)


def test_phone_rules_and_masks() -> None:
    assert validate_phone("138 0013 8000") == "13800138000"
    with pytest.raises(IdentifierError):
        validate_phone("12800138000")
    assert mask_national_id("44022319750309101X") == "440223********101X"
    assert mask_phone("13800138000") == "138****8000"
