"""File-level import errors: the file as a whole cannot be read (format, encoding, headers, size),
so no row is looked at. Row-level problems are not exceptions: validation.py reports them."""

from __future__ import annotations

from bangfu.errors import InvalidInputError, PayloadTooLargeError


class ImportFileError(InvalidInputError):
    """A file refused as a whole; `code` is stable (empty_file, wrong_headers, encoding,
    unsupported_format, too_many_rows, bad_format), the messages are safe to show and never
    contain cell values."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message, message_zh=message_zh)
        self.code = code


class ImportFileTooLargeError(PayloadTooLargeError):
    code = "file_too_large"

    def __init__(self, limit: int) -> None:
        mib = limit / 2**20
        super().__init__(
            f"the file is larger than the import limit of {mib:.0f} MiB: split it",
            message_zh=f"文件超过导入上限 {mib:.0f} MiB，请拆分后再导入",
        )


class UnknownSourceError(InvalidInputError):
    code = "unknown_source"

    def __init__(self, source: str, known: tuple[str, ...]) -> None:
        listed = ", ".join(known)
        super().__init__(
            f"unknown import source {source[:60]!r}; known sources: {listed}",
            message_zh=f"未知的数据来源；可用来源：{listed}",
        )


class ImportAbandonedError(InvalidInputError):
    """A chunk of an import that already failed (and is being rolled back) must not land."""

    code = "import_abandoned"
    message_zh = "导入已失败并回滚"
