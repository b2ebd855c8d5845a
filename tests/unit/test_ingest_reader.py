"""Reading import files: encodings (UTF-8, BOMs, GBK/GB18030 detected), CSV dialects, XLSX in
read-only mode with formulas never evaluated, and the file-level refusals (empty, too large,
too many rows, legacy .xls, broken CSV); report export with formulas neutralised."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from graph.ingest.errors import ImportFileError, ImportFileTooLargeError
from graph.ingest.export import neutralise, write_csv, write_xlsx
from graph.ingest.reader import Formula, detect_encoding, open_table

LIMIT = 10 * 1024 * 1024
HEADER = ["national_id", "name", "region_code"]
ROWS = [["440223197503091012", "王五", "440223"], ["440223198001010021", "李四", "440223"]]


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def as_csv(rows: list[list[str]], delimiter: str = ",") -> str:
    return "\n".join(delimiter.join(r) for r in [HEADER, *rows]) + "\n"


def read(
    path: Path, max_rows: int = 1000
) -> tuple[str | None, list[str], list[tuple[int, list[object]]]]:
    with open_table(path, LIMIT, max_rows) as table:
        return table.encoding, table.header, list(table.rows)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    # A short file with only two Chinese names: charset-normalizer alone calls GBK "cp949".
    path = write(tmp_path / "f.csv", as_csv(ROWS), encoding)
    found, header, rows = read(path)
    assert found == expected
    assert header == HEADER
    assert rows == [(2, ROWS[0]), (3, ROWS[1])]


def test_a_long_gbk_file_is_detected(tmp_path: Path) -> None:
    rows = [[f"4402231975030910{i % 10}2", f"张{chr(0x4E00 + i)}明", "440223"] for i in range(3000)]
    path = write(tmp_path / "f.csv", as_csv(rows), "gbk")
    assert detect_encoding(path) == "gb18030"
    _, _, read_rows = read(path, 5000)
    assert read_rows[-1][1][1] == rows[-1][1]


def test_a_utf8_file_with_a_broken_byte_keeps_utf8_and_marks_the_cell(tmp_path: Path) -> None:
    rows = [["440223197503091012", f"王{i}五", "440223"] for i in range(100)]
    data = bytearray(as_csv(rows).encode("utf-8"))
    data[data.index("王50".encode()) + 1] = 0xFF  # break one character
    path = tmp_path / "f.csv"
    path.write_bytes(bytes(data))
    encoding, _, read_rows = read(path)
    assert encoding == "utf-8"
    assert "\ufffd" in str(read_rows[50][1][1])
    assert "\ufffd" not in str(read_rows[49][1][1])


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("José Müller, Zürich; François", "cp1252"), ("Иван Петров, Москва", "cp1251")],
)
def test_text_in_no_supported_encoding_is_refused(tmp_path: Path, text: str, encoding: str) -> None:
    path = write(tmp_path / "f.csv", as_csv([["1", text, "44"]] * 30), encoding)
    with pytest.raises(ImportFileError) as info:
        read(path)
    assert info.value.code == "encoding"


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiters_are_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path / "f.csv", as_csv(ROWS, delimiter), "utf-8")
    _, header, rows = read(path)
    assert header == HEADER
    assert rows[0][1] == ROWS[0]


def test_row_numbers_count_blank_rows_and_quoted_newlines_like_a_spreadsheet(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerow(["1", "two\nlines", "3"])
        w.writerow([])
        w.writerow(["4", "5", "6"])
    _, _, rows = read(path)
    assert [n for n, _ in rows] == [2, 3, 4]
    assert rows[2][1] == ["4", "5", "6"]


def test_xlsx_cells_keep_their_types_and_formulas_are_never_evaluated(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([440223197503091012, "=1+1", datetime(2024, 1, 2)])
    sheet.append([])
    sheet.append(["440223197503091012", "王五", 440223])
    path = tmp_path / "f.xlsx"
    book.save(path)
    encoding, header, rows = read(path)
    assert encoding is None and header == HEADER
    assert isinstance(rows[0][1][0], float)  # Excel stores it as a double: digits are lost
    assert rows[0][1][1] == Formula("=1+1")
    assert rows[0][1][2] == datetime(2024, 1, 2)
    assert rows[1] == (3, [None, None, None])
    assert rows[2] == (4, ["440223197503091012", "王五", 440223])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\n\n", "empty_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unsupported_format"),
        (b"PK\x03\x04 not really a workbook", "unsupported_format"),
        (b"national_id,name\n1," + b"x" * 200_000 + b"\n", "bad_format"),  # a 200 KB cell
    ],
)
def test_unreadable_files_are_refused_as_a_whole(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        read(path)
    assert info.value.code == code
    assert info.value.message and info.value.message_zh


def test_size_and_row_limits(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", as_csv(ROWS * 3), "utf-8")
    with pytest.raises(ImportFileTooLargeError):
        open_table(path, max_bytes=10, max_rows=100)
    with pytest.raises(ImportFileError) as info:
        read(path, max_rows=5)
    assert info.value.code == "too_many_rows"


def test_export_neutralises_formula_cells(tmp_path: Path) -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+86") == "'+86"
    assert neutralise("-2") == "'-2"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("王五") == "王五"
    assert neutralise(5) == 5
    rows = [['=HYPERLINK("http://evil")', "ok"]]
    write_csv(tmp_path / "r.csv", ["a", "b"], rows)
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    write_xlsx(tmp_path / "r.xlsx", ["a", "b"], rows)
    sheet = load_workbook(tmp_path / "r.xlsx").active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://evil")'
