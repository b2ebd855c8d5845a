"""Reading an import file into its header and rows of raw cells, whatever the format.

CSV (comma, tab, semicolon or bar separated, detected from the header) in UTF-8, UTF-16 with a
BOM, or GBK/GB18030; XLSX through openpyxl in read-only mode, first sheet, formulas returned as
`Formula` (never evaluated, and refused by validation). The encoding is decided once per file:
a BOM wins; else strict UTF-8; else UTF-8 when almost every non-ASCII byte decodes as UTF-8 (a
few broken bytes become per-row `encoding` errors instead of silently misreading the file as
GBK); else charset-normalizer must recognise a Chinese encoding, read as GB18030 (a superset of
GBK and GB2312). Anything else is refused as a whole.

Rows are numbered as a spreadsheet shows them: the header is row 1, every physical record after
it counts (blank ones too), so an error's row number finds the row in Excel or WPS.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType

from charset_normalizer import from_bytes

from graph.ingest.errors import ImportFileError, ImportFileTooLargeError


@dataclass(frozen=True)
class Formula:
    """A spreadsheet cell holding a formula; carries its text, which is never evaluated."""

    text: str


Cell = str | int | float | bool | datetime | date | time | Formula | None
Row = tuple[int, list[Cell]]  # (spreadsheet row number, cells)

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: legacy .xls, .doc ...
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (b"\x84\x31\x95\x33", "gb18030"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A file may carry a few broken bytes (a truncated copy, one bad cell): with at least 20
# well-decoded non-ASCII characters per broken byte the encoding is right and those cells get
# per-row `encoding` errors. Read as UTF-8, a GBK file breaks on ~1.7 bytes per Chinese
# character and decodes ~0.15 characters, far below; the same holds the other way round.
_GOOD_PER_BROKEN = 20
# charset-normalizer and the Chinese-share check read a sample: the first 256 KiB (~2,500
# rows) is plenty and keeps detection well under a second for any file size.
_SAMPLE_BYTES = 256 * 1024
_GB_ENCODINGS = {"gb18030", "gbk", "gb2312", "cp936"}
_DOUBLE_BYTE = {"cp949", "euckr", "big5", "big5hkscs", "cp950", "eucjp", "shiftjis", "cp932"}
# CJK ideographs, CJK punctuation and full-width forms.
_CHINESE = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef]")
# Text that is Chinese read as GB18030 has at least this share of such characters among its
# non-ASCII ones (names, addresses: ~100%); Latin-1 or Korean text misread as GB18030 has
# rare ideographs mixed with symbols and falls well below.
_CHINESE_SHARE = 0.8
_DELIMITERS = (",", "\t", ";", "|")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class TableFile:
    """An opened import file: its format and encoding, header cells and a one-shot iterator
    over the data rows. Iterating may still raise ImportFileError (a broken record, too many
    rows): a file that cannot be read to the end imports nothing."""

    format: str  # "csv" or "xlsx"
    encoding: str | None
    header: list[str]
    rows: Iterator[Row]
    close: Callable[[], None]

    def __enter__(self) -> TableFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def check_size(path: Path, max_bytes: int) -> int:
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFileTooLargeError(max_bytes)
    if size == 0:
        raise ImportFileError("empty_file", "the file is empty", "文件为空")
    return size


def open_table(path: Path, max_bytes: int, max_rows: int) -> TableFile:
    """Open `path` as CSV or XLSX (decided by its first bytes, not its name)."""
    check_size(path, max_bytes)
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(_XLSX_MAGIC):
        return _open_xlsx(path, max_rows)
    if head.startswith(_XLS_MAGIC):
        raise ImportFileError(
            "unsupported_format",
            "legacy .xls workbooks are not accepted: save the sheet as .xlsx or CSV",
            "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV",
        )
    return _open_csv(path, max_rows)


# --- CSV ----------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    with path.open("rb") as f:
        start = f.read(_SAMPLE_BYTES)
    for bom, encoding in _BOMS:
        if start.startswith(bom):
            return encoding
    if _decodes(path, "utf-8"):
        return "utf-8"
    # charset-normalizer has the first word; on short files with few Chinese characters (a
    # list of names) it prefers another East Asian double-byte encoding (cp949, big5) to
    # GB18030, so then a sample that reads as GB18030 into mostly Chinese characters is
    # accepted too. (Korean EUC-KR shares GBK's byte ranges: such a file would be misread; no
    # department sends one.)
    sample = _cut_at_newline(start)
    matches = from_bytes(sample)
    candidates = {m.encoding.replace("_", "").lower() for m in matches}
    best = matches.best()
    double_byte = best is not None and best.encoding.replace("_", "").lower() in _DOUBLE_BYTE
    chinese = bool(candidates & _GB_ENCODINGS) or (
        double_byte and _mostly_chinese(sample.decode("gb18030", "replace"))
    )
    if chinese and _decodes(path, "gb18030"):
        return "gb18030"
    raise ImportFileError(
        "encoding",
        "the file's text encoding is not recognised: save it as UTF-8 or GBK (CSV)",
        "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件",
    )


def _mostly_chinese(text: str) -> bool:
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii == 0:
        return False
    chinese = len(_CHINESE.findall(text))
    return chinese >= non_ascii * _CHINESE_SHARE


def _cut_at_newline(sample: bytes) -> bytes:
    """The sample up to its last newline, so detection never sees half a character."""
    end = sample.rfind(b"\n")
    return sample if end < 0 else sample[: end + 1]


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file is text in `encoding`: no undecodable byte, or at least
    _GOOD_PER_BROKEN decoded non-ASCII characters per undecodable one."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    broken = good = 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            text = decoder.decode(block)
            bad = text.count("\ufffd")
            broken += bad
            good += len(text) - len(text.encode("ascii", "ignore")) - bad
        broken += decoder.decode(b"", final=True).count("\ufffd")
    return broken == 0 or good >= broken * _GOOD_PER_BROKEN


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter giving the header the most cells; a comma on a tie (a one-column file)."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _open_csv(path: Path, max_rows: int) -> TableFile:
    encoding = detect_encoding(path)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        first_line = text.readline()
        text.seek(0)
    except UnicodeError:  # pragma: no cover - errors="replace" decodes everything
        text.close()
        raise
    if not first_line.strip():
        text.close()
        raise ImportFileError(
            "empty_file", "the first row (the header) is empty", "第一行（表头）为空"
        )
    reader = csv.reader(text, delimiter=_sniff_delimiter(first_line), strict=False)
    try:
        header = next(reader)
    except csv.Error:
        text.close()
        raise ImportFileError(
            "bad_format", "row 1 (the header) is not valid CSV", "第 1 行（表头）不是有效的 CSV"
        ) from None
    header[0] = header[0].lstrip("\ufeff")

    def rows() -> Iterator[Row]:
        number = 1
        try:
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    raise ImportFileError(
                        "bad_format",
                        f"row {number + 1} is not valid CSV (a NUL byte, an unclosed quote "
                        "or a cell over 128 KiB): nothing was imported",
                        f"第 {number + 1} 行不是有效的 CSV（含空字符、引号未闭合或单元格超过"
                        " 128 KiB），未导入任何数据",
                    ) from None
                number += 1
                if number - 1 > max_rows:
                    raise _too_many_rows(max_rows)
                yield number, list[Cell](record)
        finally:
            text.close()

    return TableFile("csv", encoding.removesuffix("-sig"), header, rows(), text.close)


def _too_many_rows(max_rows: int) -> ImportFileError:
    return ImportFileError(
        "too_many_rows",
        f"the file has more than {max_rows:,} data rows: split it",
        f"文件数据行超过 {max_rows:,} 行，请拆分后再导入",
    )


# --- XLSX ---------------------------------------------------------------------------------------


def _open_xlsx(path: Path, max_rows: int) -> TableFile:
    # Imported lazily: openpyxl costs ~0.3 s to import and CSV files never need it.
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # noqa: PLC0415

    # A file object, not the path: stored uploads have no .xlsx suffix, which openpyxl checks.
    handle = path.open("rb")
    try:
        # data_only=False: a formula cell comes back as its formula text (data type "f"), not a
        # value computed by whoever saved the file; validation refuses it.
        book = load_workbook(handle, read_only=True, data_only=False)
    except Exception:  # a damaged or crafted zip fails inside openpyxl in many ways
        handle.close()
        raise _unreadable_xlsx() from None

    def close() -> None:
        book.close()
        handle.close()

    try:
        sheet = book.worksheets[0]
        declared = sheet.max_row or 0
        cells = sheet.iter_rows()
        first = next(cells, None)
        header = [] if first is None else [_text(c.value) for c in first]
    except Exception:
        close()
        raise _unreadable_xlsx() from None
    if declared - 1 > max_rows:
        close()
        raise _too_many_rows(max_rows)
    while header and header[-1] == "":
        header.pop()
    if not header:
        close()
        raise ImportFileError(
            "empty_file", "the first row (the header) is empty", "第一行（表头）为空"
        )

    def rows() -> Iterator[Row]:
        number = 1
        try:
            while True:
                try:
                    row = next(cells)
                except StopIteration:
                    return
                except Exception:
                    raise _unreadable_xlsx(number + 1) from None
                number += 1
                if number - 1 > max_rows:
                    raise _too_many_rows(max_rows)
                yield (
                    number,
                    [Formula(str(c.value)) if c.data_type == "f" else c.value for c in row],
                )
        finally:
            close()

    return TableFile("xlsx", None, header, rows(), close)


def _unreadable_xlsx(row: int | None = None) -> ImportFileError:
    where = f" (at row {row})" if row else ""
    where_zh = f"（第 {row} 行）" if row else ""
    return ImportFileError(
        "unsupported_format",
        f"the file is neither CSV nor a readable .xlsx workbook{where}",
        f"文件既不是 CSV，也不是可读取的 .xlsx 工作簿{where_zh}",
    )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
