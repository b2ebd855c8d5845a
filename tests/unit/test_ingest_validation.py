"""Import validation, pure: every bad cell reported with its spreadsheet row, column, stable code,
Chinese and English message and a masked value; headers; duplicates; stored-record conflicts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bangfu.identity import make_national_id
from graph.ingest.errors import ImportFileError
from graph.ingest.reader import Formula
from graph.ingest.schemas import SOURCES, Entity, Kind
from graph.ingest.validation import (
    Code,
    Context,
    DuplicateTracker,
    RowValidator,
    credit_code_check,
    differences,
    map_header,
)

DIBAO = SOURCES["civil_affairs.dibao"]
PERSONS = SOURCES["persons"]
CTX = Context(
    region_codes=frozenset({"44", "4402", "440223", "440223101", "440223101001", "440224"}),
    today=date(2026, 11, 1),
)
NID = make_national_id("440223", date(1975, 3, 9), 101)  # male


def dibao(**cells: object) -> list[object]:
    row: dict[str, object] = {
        "national_id": NID,
        "name": "王五",
        "region_code": "440223101001",
        "household_size": "3",
        "monthly_amount": "450.5",
        "start_date": "2024-01-01",
        "end_date": "",
    }
    row.update(cells)
    return [row[c] for c in DIBAO.names]


def check(cells: list[object], ctx: Context = CTX, schema=DIBAO):  # type: ignore[no-untyped-def]
    validator = RowValidator(schema, map_header(list(schema.names), schema), ctx)
    return validator.check(7, cells)


def test_a_good_row_gives_typed_values() -> None:
    checked = check(dibao())
    assert checked.issues == []
    assert checked.values is not None
    assert checked.values["national_id"] == NID
    assert checked.values["household_size"] == 3
    assert checked.values["monthly_amount"] == 450.5
    assert checked.values["start_date"] == date(2024, 1, 1)
    assert checked.values["end_date"] is None


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("national_id", "4.40223E+17", Code.SCIENTIFIC_NOTATION),
        ("national_id", 4.40223197503091e17, Code.SCIENTIFIC_NOTATION),  # an XLSX number cell
        ("national_id", NID[:-1] + ("0" if NID[-1] != "0" else "1"), Code.BAD_CHECK_DIGIT),
        ("national_id", "44022319750309101", Code.BAD_FORMAT),
        ("national_id", "440223197502301015", Code.BAD_BIRTH_DATE),
        ("national_id", make_national_id("440223", date(2027, 1, 1), 1), Code.BAD_BIRTH_DATE),
        ("national_id", "", Code.MISSING_VALUE),
        ("region_code", "440299", Code.UNKNOWN_REGION),
        ("region_code", "44A2", Code.BAD_FORMAT),
        ("monthly_amount", "abc", Code.BAD_NUMBER),
        ("monthly_amount", "-5", Code.BAD_NUMBER),
        ("monthly_amount", "1e400", Code.BAD_NUMBER),
        ("household_size", "2.5", Code.BAD_NUMBER),
        ("start_date", "2024-02-30", Code.BAD_DATE),
        ("start_date", "01/02/2024", Code.BAD_DATE),
        ("start_date", 45123, Code.BAD_DATE),  # a spreadsheet serial, not a date
        ("name", Formula('=HYPERLINK("http://x")'), Code.FORMULA),
        ("name", "王\ufffd五", Code.ENCODING),
        ("name", "王\x00五", Code.ENCODING),
        ("name", "长" * 51, Code.TOO_LONG),
        ("end_date", "2023-12-31", Code.INCONSISTENT_VALUE),  # before start_date
    ],
)
def test_each_bad_cell_has_its_stable_code(column: str, value: object, code: Code) -> None:
    checked = check(dibao(**{column: value}))
    assert checked.values is None
    assert [(i.row, i.column, i.code) for i in checked.issues] == [(7, column, code.value)]
    issue = checked.issues[0]
    assert issue.message_en and issue.message_zh
    assert issue.message_zh != issue.message_en


def test_every_bad_cell_of_a_row_is_reported_not_only_the_first() -> None:
    checked = check(dibao(national_id="4.40223E+17", monthly_amount="x", start_date="soon"))
    assert sorted(i.column for i in checked.issues) == [
        "monthly_amount",
        "national_id",
        "start_date",
    ]


def test_values_are_masked_in_issues_never_echoed() -> None:
    bad = NID[:-1] + ("0" if NID[-1] != "0" else "1")
    checked = check(dibao(national_id=bad, name=Formula("=1+1"), monthly_amount="123456789x"))
    shown = {i.column: i.value for i in checked.issues}
    assert shown["national_id"] == bad[:6] + "*" * 8 + bad[-4:]
    assert bad not in repr(checked.issues)
    assert "123456789x" not in repr(checked.issues)
    assert shown["monthly_amount"] == "12******9x"


def test_phone_codes_and_mask() -> None:
    row = {c: "" for c in PERSONS.names}
    row.update(
        person_id="P1",
        household_id="H1",
        national_id=NID,
        name="王五",
        sex="男",
        birth_date="1975/3/9",
        relation="户主",
        health="healthy",
        disability_grade="0",
        schooling="primary",
        labour_ability="normal",
        employment="farming",
        phone="1381234567",
    )
    checked = check([row[c] for c in PERSONS.names], schema=PERSONS)
    assert [(i.column, i.code, i.value) for i in checked.issues] == [
        ("phone", "bad_phone", "138***4567")
    ]
    row["phone"] = "13812345678"
    row["sex"] = "female"
    row["birth_date"] = "1975-03-10"
    checked = check([row[c] for c in PERSONS.names], schema=PERSONS)
    assert sorted((i.column, i.code) for i in checked.issues) == [
        ("birth_date", "inconsistent_value"),
        ("sex", "inconsistent_value"),
    ]


def test_officials_get_out_of_scope_for_rows_outside_their_region() -> None:
    official = Context(region_codes=CTX.region_codes, scope=("440224",), today=CTX.today)
    checked = check(dibao(), official)
    assert [(i.column, i.code) for i in checked.issues] == [("region_code", "out_of_scope")]
    assert check(dibao(region_code="440224"), official).issues == []


def test_spreadsheet_cell_types_are_understood() -> None:
    checked = check(
        dibao(
            household_size=3.0,
            monthly_amount=450,
            start_date=datetime(2024, 1, 1),
            region_code=440223101001,
            national_id="'" + NID,
        )
    )
    assert checked.issues == []
    assert checked.values is not None
    assert checked.values["region_code"] == "440223101001"


def test_chinese_labels_and_formats_are_accepted() -> None:
    tekun = SOURCES["civil_affairs.tekun"]
    cells = {
        "national_id": NID,
        "name": "王五",
        "region_code": "440223",
        "care_mode": "分散供养",
        "monthly_amount": "¥1,200.00",
        "start_date": "2024年3月1日",
        "end_date": "20250301",
    }
    checked = check([cells[c] for c in tekun.names], schema=tekun)
    assert checked.issues == []
    assert checked.values is not None
    assert checked.values["care_mode"] == "dispersed"
    assert checked.values["monthly_amount"] == 1200
    assert checked.values["end_date"] == date(2025, 3, 1)


def test_blank_rows_are_skipped_and_extra_cells_reported() -> None:
    assert check(["", None, "  "]).blank
    checked = check([*dibao(), "", "unexpected"])
    assert [i.code for i in checked.issues] == ["extra_cells"]


def test_header_by_english_or_chinese_name_in_any_order() -> None:
    header = ["姓名", "身份证号*", "Region_Code", "月保障金额", "开始日期"]
    mapping = map_header(header, DIBAO)
    assert [DIBAO.columns[i].name if i is not None else None for i in mapping] == [
        "name",
        "national_id",
        "region_code",
        "monthly_amount",
        "start_date",
    ]


def test_wrong_headers_name_what_is_missing_unknown_or_repeated() -> None:
    with pytest.raises(ImportFileError) as info:
        map_header(["national_id", "name", "name", "amount"], DIBAO)
    assert info.value.code == "wrong_headers"
    assert "region_code" in info.value.message and "start_date" in info.value.message
    assert "amount" in info.value.message and "repeated columns: name" in info.value.message
    assert "缺少列" in info.value.message_zh


def test_a_data_row_where_the_header_belongs_is_masked_in_the_error() -> None:
    with pytest.raises(ImportFileError) as info:
        map_header([NID, "王五", "440223", "300", "2024-01-01"], DIBAO)
    assert NID not in info.value.message and NID not in info.value.message_zh
    assert "header row missing" in info.value.message


def test_duplicates_identical_and_conflicting() -> None:
    tracker = DuplicateTracker(DIBAO)
    first = check(dibao()).values
    assert first is not None
    assert tracker.see(2, first) == []
    same = tracker.see(3, dict(first))
    assert [(i.code, i.column) for i in same] == [("duplicate_row", "")]
    assert "row 2" in same[0].message_en
    other = dict(first, monthly_amount=999)
    clash = tracker.see(4, other)
    assert [(i.code, i.column) for i in clash] == [("duplicate_in_file", "national_id")]
    # The earlier row is bad too: which of the two is right is not known.
    assert [(i.row, i.code) for i in tracker.retroactive[2]] == [(2, "duplicate_in_file")]


def test_persons_must_be_unique_by_national_id_as_well() -> None:
    tracker = DuplicateTracker(PERSONS)
    a = {c: None for c in PERSONS.names} | {"person_id": "P1", "national_id": NID}
    b = dict(a, person_id="P2")
    assert tracker.see(2, a) == []
    assert [(i.code, i.column) for i in tracker.see(3, b)] == [("duplicate_in_file", "national_id")]


def test_differences_ignore_ciphertexts_and_compare_numbers_to_the_cent() -> None:
    wanted = {"a": 1, "b": 2.0, "c_enc": "x", "c_hash": "h", "d": [], "e": "same"}
    stored = {"a": 1.001, "b": 2, "c_enc": "y", "c_hash": "h", "e": "same"}
    assert differences(wanted, stored) == []
    assert differences(dict(wanted, c_hash="other", e="changed"), stored) == ["c_hash", "e"]


def test_credit_code_check_character() -> None:
    # A published example: 91350100M000100Y43.
    assert credit_code_check("91350100M000100Y4") == "3"
    businesses = SOURCES["market_regulation.businesses"]
    cells = {
        "national_id": NID,
        "name": "王五",
        "region_code": "440223",
        "credit_code": "91350100M000100Y44",
        "business_name": "五金店",
        "business_type": "个体工商户",
        "registered_capital": "",
        "registered_on": "2020-05-06",
        "status": "存续",
    }
    checked = check([cells[c] for c in businesses.names], schema=businesses)
    assert [(i.column, i.code) for i in checked.issues] == [("credit_code", "bad_check_digit")]


def test_every_source_is_declared_with_a_key_and_known_columns() -> None:
    assert len([s for s in SOURCES.values() if s.entity is Entity.DEPT]) == 14
    for schema in SOURCES.values():
        assert set(schema.key) <= set(schema.names)
        if schema.entity is Entity.DEPT:
            assert schema.names[:3] == ("national_id", "name", "region_code")
            assert schema.column("national_id").kind is Kind.NATIONAL_ID
        # Validators build for every schema (every check it names exists).
        RowValidator(schema, list(range(len(schema.columns))), CTX)
