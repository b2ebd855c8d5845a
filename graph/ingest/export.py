"""Writing tables for people to open in a spreadsheet (the validation report download), with
formula injection neutralised: a text cell starting with = + - @ (or a tab or carriage return,
which some spreadsheets skip before looking for a formula) gets a leading single quote, so Excel
and WPS show it as text and never evaluate it. Values in reports are masked anyway; this keeps a
crafted cell in an uploaded file from becoming a live formula on the official's machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from graph.ingest.validation import Issue

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's sheet limit is 1,048,576 rows; the header takes one.
XLSX_MAX_ROWS = 1_048_575

REPORT_HEADER = (
    "行号 row",
    "列 column",
    "错误代码 code",
    "说明 message (zh)",
    "message (en)",
    "值（已脱敏） value (masked)",
)


def neutralise(value: object) -> object:
    """The cell as it may be written: text that a spreadsheet would read as a formula gets a
    leading single quote; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_rows(issues: Iterable[Issue]) -> Iterator[tuple[object, ...]]:
    for issue in issues:
        yield (
            issue.row,
            issue.column,
            issue.code,
            issue.message_zh,
            issue.message_en,
            issue.value,
        )


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM (so Excel opens Chinese text correctly), one encoded line at a
    time: a million-row report streams without being held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(v) for v in row])
        yield buffer.getvalue().encode("utf-8")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("wb") as out:
        for line in csv_lines(header, rows):
            out.write(line)


def write_xlsx(
    path: Path | BinaryIO,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    sheet_title: str = "report",
) -> int:
    """A one-sheet workbook (write-only mode: constant memory) to a file or a binary stream;
    returns the rows written, at most XLSX_MAX_ROWS (a longer report is cut there; the CSV
    download has every row)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # noqa: PLC0415

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    sheet.append([neutralise(h) for h in header])
    written = 0
    for row in rows:
        if written >= XLSX_MAX_ROWS:
            break
        sheet.append([neutralise(v) for v in row])
        written += 1
    book.save(path)
    return written
