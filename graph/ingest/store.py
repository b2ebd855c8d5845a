"""Files of imports on disk, under ImportSettings.store_dir (shared by the API and the workers:
one volume in docker compose):

    files/<sha256>                the uploaded file, content-addressed (the same bytes twice are
                                  one file)
    staging/<job id>/<attempt>/<no>.json
                                  validated rows of chunk <no>, as graph properties with every
                                  identifier already sealed (no plaintext ID or phone on disk
                                  beyond the upload itself); deleted when the import ends. Each
                                  validation run (a message delivered again while the first run
                                  is still going, after a visibility timeout) stages into its own
                                  attempt directory; the job records the one whose plan won
    reports/<job id>.jsonl        every issue of the validation report, in row order (values
                                  masked)

Every file appears atomically (written to a .part name, then renamed), so a worker killed
while writing leaves no half file that a later delivery would trust.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from graph.ingest.errors import ImportFileTooLargeError
from graph.ingest.validation import Issue

_BLOCK = 1 << 20
_SHA256_HEX = 64


@dataclass(frozen=True)
class StagedChunk:
    """Good rows of one chunk: graph properties of the records to create (identifiers
    sealed), their spreadsheet row numbers, and rows the graph already holds as they are."""

    rows: list[dict[str, Any]]
    numbers: list[int]
    present: list[int]

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.present)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class IssueWriter:
    """Appends issues to a JSON-lines file; must be used as a context manager."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.count = 0

    def write(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.handle.write(json.dumps(list(issue), ensure_ascii=False) + "\n")
            self.count += 1


def _issue(line: str) -> Issue:
    return Issue(*json.loads(line))


class ImportStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    # --- uploaded files ---------------------------------------------------------------------

    def _files(self) -> Path:
        path = self.root / "files"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_stream(self, stream: IO[bytes], max_bytes: int) -> StoredFile:
        """Copy `stream` into the store while hashing it; refuse it past `max_bytes`."""
        digest = hashlib.sha256()
        size = 0
        files = self._files()
        handle, tmp_name = tempfile.mkstemp(dir=files, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                while block := stream.read(_BLOCK):
                    size += len(block)
                    if size > max_bytes:
                        raise ImportFileTooLargeError(max_bytes)
                    digest.update(block)
                    out.write(block)
            sha = digest.hexdigest()
            target = files / sha
            if target.exists():
                tmp.unlink()
            else:
                tmp.replace(target)
            return StoredFile(sha, size, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def save_path(self, source: Path, max_bytes: int) -> StoredFile:
        if source.stat().st_size > max_bytes:
            raise ImportFileTooLargeError(max_bytes)
        with source.open("rb") as stream:
            return self.save_stream(stream, max_bytes)

    def file_path(self, sha256: str) -> Path:
        if len(sha256) != _SHA256_HEX or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / "files" / sha256

    # --- staged chunks ----------------------------------------------------------------------

    def staging_dir(self, job_id: str) -> Path:
        return self.root / "staging" / _safe_id(job_id)

    def new_attempt(self, job_id: str) -> str:
        """A fresh staging directory for one validation run of the job; returns its name."""
        attempt = uuid.uuid4().hex
        (self.staging_dir(job_id) / attempt).mkdir(parents=True)
        return attempt

    def _attempt(self, job_id: str, attempt: str) -> Path:
        return self.staging_dir(job_id) / _safe_id(attempt)

    def write_chunk(self, job_id: str, attempt: str, no: int, chunk: StagedChunk) -> None:
        target = self._attempt(job_id, attempt) / f"{no}.json"
        payload = {"rows": chunk.rows, "numbers": chunk.numbers, "present": chunk.present}
        _atomic_write(target, json.dumps(payload, ensure_ascii=False, default=_json_default))

    def read_chunk(
        self, job_id: str, attempt: str, no: int, date_keys: Iterable[str]
    ) -> StagedChunk:
        """The chunk with ISO dates in its rows turned back into dates."""
        path = self._attempt(job_id, attempt) / f"{no}.json"
        payload = json.loads(path.read_text(encoding="utf-8"))
        rows: list[dict[str, Any]] = payload["rows"]
        keys = tuple(date_keys)
        for row in rows:
            for key in keys:
                if row.get(key) is not None:
                    row[key] = date.fromisoformat(row[key])
        return StagedChunk(rows=rows, numbers=payload["numbers"], present=payload["present"])

    def drop_attempt(self, job_id: str, attempt: str) -> None:
        shutil.rmtree(self._attempt(job_id, attempt), ignore_errors=True)

    def drop_staging(self, job_id: str) -> None:
        """Every attempt of the job (when it ends, whichever way)."""
        shutil.rmtree(self.staging_dir(job_id), ignore_errors=True)

    @contextmanager
    def scratch(self, job_id: str, attempt: str, name: str) -> Iterator[Path]:
        """A scratch file inside the attempt's staging directory, removed afterwards."""
        path = self._attempt(job_id, attempt) / f"{name}-{uuid.uuid4().hex}.tmp"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    # --- reports ----------------------------------------------------------------------------

    def report_path(self, job_id: str) -> Path:
        return self.root / "reports" / f"{_safe_id(job_id)}.jsonl"

    @contextmanager
    def issue_writer(self, path: Path) -> Iterator[IssueWriter]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            yield IssueWriter(handle)

    def merge_report(self, job_id: str, parts: Iterable[Path]) -> int:
        """Merge issue files (each in row order) into the job's report, in row order."""
        target = self.report_path(job_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        handles = [p.open(encoding="utf-8") for p in parts]
        count = 0
        try:
            streams = [(_issue(line) for line in h) for h in handles]
            with _atomic_text(target) as out:
                for issue in heapq.merge(*streams, key=lambda i: i.row):
                    out.write(json.dumps(list(issue), ensure_ascii=False) + "\n")
                    count += 1
        finally:
            for h in handles:
                h.close()
        return count

    def write_report(self, job_id: str, issues: Iterable[Issue]) -> None:
        with _atomic_text(self.report_path(job_id)) as out:
            for issue in issues:
                out.write(json.dumps(list(issue), ensure_ascii=False) + "\n")

    def read_report(self, job_id: str, skip: int = 0, limit: int | None = None) -> list[Issue]:
        path = self.report_path(job_id)
        if not path.is_file():
            return []
        found: list[Issue] = []
        with path.open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if index < skip:
                    continue
                if limit is not None and len(found) >= limit:
                    break
                found.append(_issue(line))
        return found

    def iter_report(self, job_id: str) -> Iterator[Issue]:
        path = self.report_path(job_id)
        if not path.is_file():
            return
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                yield _issue(line)


def _safe_id(job_id: str) -> str:
    if not job_id or not all(c.isalnum() or c in "-_" for c in job_id):
        raise ValueError("job ids are letters, digits, '-' and '_'")
    return job_id


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)


@contextmanager
def _atomic_text(target: Path) -> Iterator[IO[str]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("w", encoding="utf-8") as out:
            yield out
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
