"""Validating a stored import file against the graph and staging its good rows in chunks.

One streaming pass, so memory stays bounded by the in-file key index whatever the file size:
every row's cells and cross-column rules are checked (validation.py, pure), repeats within the
file found, identifiers sealed (keyed hash + ciphertext); every `lookup_rows` good rows, the
graph is asked what it already holds under their keys (conflicts, unknown households, members
registered elsewhere, identical records), and rows still good go to chunk files of
`chunk_rows` rows: the records to create, and a count of those already stored as they are.
With all-or-nothing (the default) the first bad row stops the staging, not the checking: the
report still lists every bad row.

The report (every issue, in row order) merges the per-cell issues, the issues found against
the graph and earlier rows a later conflicting repeat made bad. Nothing is written to the graph
here: workers write the chunks (graph/repositories/imports.py explains the atomicity).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bangfu.settings import ImportSettings
from graph.ingest.errors import ImportFileError, UnknownSourceError
from graph.ingest.reader import TableFile, open_table
from graph.ingest.schemas import SOURCES, Column, Entity, Kind, SourceSchema
from graph.ingest.store import ImportStore, IssueWriter, StagedChunk
from graph.ingest.validation import (
    Code,
    Context,
    DuplicateTracker,
    Issue,
    RowValidator,
    Tally,
    differences,
    make_issue,
    map_header,
    mask_for,
)
from graph.models import ImportFileProblem, ImportOutcome, ImportSummary
from graph.pii import PiiVault
from graph.repositories import dept_records
from graph.repositories.dept_records import DeptRecordRepository
from graph.repositories.imports import (
    ImportRepository,
    Writer,
    write_households_in,
    write_needs_in,
    write_persons_in,
)

Props = dict[str, Any]
Staged = tuple[int, Props, dict[str, str]]  # (row, graph properties, masked sealed values)
_SEALED_KINDS = (Kind.NATIONAL_ID, Kind.PHONE, Kind.SEALED)
_SEPARATOR = "\x1f"


def schema_of(source: str) -> SourceSchema:
    schema = SOURCES.get(source)
    if schema is None:
        raise UnknownSourceError(source, tuple(SOURCES))
    return schema


@dataclass(frozen=True)
class ImportRequest:
    """What a job imports: taken from the job's parameters."""

    job_id: str
    source: str
    sha256: str
    file_name: str
    good_rows_only: bool = False
    # Region-code prefixes the importer may write; ("",) is everything.
    scope: tuple[str, ...] = ("",)

    @classmethod
    def of(cls, job_id: str, params: Mapping[str, Any]) -> ImportRequest:
        return cls(
            job_id=job_id,
            source=str(params["source"]),
            sha256=str(params["sha256"]),
            file_name=str(params.get("file_name", "")),
            good_rows_only=bool(params.get("good_rows_only", False)),
            scope=tuple(params.get("scope") or ("",)),
        )

    def summary(self, outcome: ImportOutcome, **fields: Any) -> ImportSummary:
        return ImportSummary(
            import_id=self.job_id,
            source=self.source,
            sha256=self.sha256,
            file_name=self.file_name,
            good_rows_only=self.good_rows_only,
            outcome=outcome,
            **fields,
        )


@dataclass(frozen=True)
class Validated:
    summary: ImportSummary
    chunk_sizes: tuple[int, ...] = ()
    attempt: str = ""  # the staging directory of this validation run (graph/ingest/store.py)


def _key_text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


WRITERS: Mapping[Entity, Writer] = {
    Entity.DEPT: dept_records.write_in,
    Entity.HOUSEHOLDS: write_households_in,
    Entity.PERSONS: write_persons_in,
    Entity.NEEDS: write_needs_in,
}


class _Target:
    """How one source's rows become graph properties and what is checked against the graph."""

    # Properties that are bookkeeping, not facts, when comparing with a stored record.
    ignored: frozenset[str] = frozenset({"import_job", "imported_at"})

    def __init__(self, schema: SourceSchema, vault: PiiVault, repo: ImportRepository) -> None:
        self.schema = schema
        self.vault = vault
        self.repo = repo
        self.sealed = [c for c in schema.columns if c.kind in _SEALED_KINDS]
        self.plain = [c for c in schema.columns if c.kind not in _SEALED_KINDS]

    def props(self, values: Mapping[str, Any]) -> tuple[Props, dict[str, str]]:
        props: Props = {}
        masked: dict[str, str] = {}
        for col in self.plain:
            value = values[col.name]
            if value is not None:
                props[col.name] = value
        for col in self.sealed:
            value = values[col.name]
            if value is not None:
                text = str(value)
                props[f"{col.name}_enc"] = self.vault.encrypt(text)
                props[f"{col.name}_hash"] = self.vault.lookup_hash(text)
                masked[col.name] = mask_for(col.kind, text)
        return props, masked

    def column_of(self, prop: str) -> Column:
        name = prop.removesuffix("_hash")
        if name == "id":
            name = self.schema.key[0]
        return self.schema.column(name)

    def check(self, batch: Sequence[Staged]) -> tuple[dict[int, list[Issue]], set[int]]:
        """Issues of rows that clash with the graph, and the rows already stored as they are
        (those are counted, not written again)."""
        raise NotImplementedError

    def _against(
        self,
        batch: Sequence[Staged],
        stored: Mapping[str, Mapping[str, Any]],
        key: str,
        found: dict[int, list[Issue]],
    ) -> set[int]:
        present = set()
        for number, props, masked in batch:
            if props[key] in stored:
                issues = self._conflicts(number, props, stored[props[key]], masked)
                if issues:
                    found.setdefault(number, []).extend(issues)
                elif number not in found:
                    present.add(number)
        return present

    def _conflicts(
        self, number: int, props: Props, stored: Mapping[str, Any], masked: Mapping[str, str]
    ) -> list[Issue]:
        issues = []
        for prop in differences(props, stored, self.ignored):
            col = self.column_of(prop)
            shown = masked.get(col.name, props.get(prop, ""))
            issues.append(make_issue(number, col, Code.CONFLICT_WITH_EXISTING, shown))
        return issues


class _DeptTarget(_Target):
    ignored = _Target.ignored | {"key", "source"}

    def __init__(
        self,
        schema: SourceSchema,
        vault: PiiVault,
        repo: ImportRepository,
        records: DeptRecordRepository,
    ) -> None:
        super().__init__(schema, vault, repo)
        self.records = records

    def props(self, values: Mapping[str, Any]) -> tuple[Props, dict[str, str]]:
        props, masked = super().props(values)
        props["source"] = self.schema.name
        # The key hashes the ID number's keyed hash (never the number itself), so it cannot be
        # reversed by hashing every plausible ID; plain SHA-256 on top costs a third of an HMAC.
        parts = [
            props[f"{k}_hash"]
            if self.schema.column(k).kind in _SEALED_KINDS
            else _key_text(values[k])
            for k in self.schema.key
        ]
        natural = _SEPARATOR.join(("dept", self.schema.name, *parts))
        props["key"] = hashlib.sha256(natural.encode()).hexdigest()
        return props, masked

    def column_of(self, prop: str) -> Column:
        return self.schema.column(prop.removesuffix("_hash"))

    def check(self, batch: Sequence[Staged]) -> tuple[dict[int, list[Issue]], set[int]]:
        stored = self.records.existing([p["key"] for _, p, _ in batch])
        found: dict[int, list[Issue]] = {}
        return found, self._against(batch, stored, "key", found)


class _HouseholdTarget(_Target):
    def props(self, values: Mapping[str, Any]) -> tuple[Props, dict[str, str]]:
        props, masked = super().props(values)
        props["id"] = props.pop("household_id")
        return props, masked

    def check(self, batch: Sequence[Staged]) -> tuple[dict[int, list[Issue]], set[int]]:
        stored = self.repo.households([p["id"] for _, p, _ in batch])
        found: dict[int, list[Issue]] = {}
        return found, self._against(batch, stored, "id", found)


class _PersonTarget(_Target):
    # Region-code prefixes the importer may write: a member's household must lie inside them.
    scope: tuple[str, ...] = ("",)

    def props(self, values: Mapping[str, Any]) -> tuple[Props, dict[str, str]]:
        props, masked = super().props(values)
        props["id"] = props.pop("person_id")
        return props, masked

    def check(self, batch: Sequence[Staged]) -> tuple[dict[int, list[Issue]], set[int]]:
        stored = self.repo.persons([p["id"] for _, p, _ in batch])
        holders = self.repo.persons_by_national_id_hash(
            [p["national_id_hash"] for _, p, _ in batch]
        )
        villages = self.repo.household_villages(sorted({p["household_id"] for _, p, _ in batch}))
        scope = self.scope
        found: dict[int, list[Issue]] = {}
        household_col = self.schema.column("household_id")
        nid_col = self.schema.column("national_id")
        for number, props, masked in batch:
            issues: list[Issue] = []
            village = villages.get(props["household_id"])
            if village is None:
                issues.append(
                    make_issue(
                        number,
                        household_col,
                        Code.UNKNOWN_REFERENCE,
                        props["household_id"],
                        (
                            "{col}: no such household: import the households file first",
                            "{zh}：该户不存在，请先导入农户文件",
                        ),
                    )
                )
            elif not any(village.startswith(p) for p in scope):
                issues.append(
                    make_issue(number, household_col, Code.OUT_OF_SCOPE, props["household_id"])
                )
            holder = holders.get(props["national_id_hash"])
            if holder is not None and holder != props["id"]:
                issues.append(
                    make_issue(
                        number,
                        nid_col,
                        Code.CONFLICT_WITH_EXISTING,
                        masked.get("national_id", ""),
                        (
                            "{col}: already registered for another member",
                            "{zh}：已登记在其他家庭成员名下",
                        ),
                    )
                )
            if issues:
                found[number] = issues
        return found, self._against(batch, stored, "id", found)


class _NeedTarget(_Target):
    def props(self, values: Mapping[str, Any]) -> tuple[Props, dict[str, str]]:
        props, masked = super().props(values)
        props["id"] = props.pop("need_id")
        return props, masked

    def check(self, batch: Sequence[Staged]) -> tuple[dict[int, list[Issue]], set[int]]:
        stored = self.repo.needs([p["id"] for _, p, _ in batch])
        villages = self.repo.household_villages(sorted({p["household_id"] for _, p, _ in batch}))
        found: dict[int, list[Issue]] = {}
        for number, props, _ in batch:
            issues: list[Issue] = []
            village = villages.get(props["household_id"])
            if village is None:
                issues.append(
                    make_issue(
                        number,
                        self.schema.column("household_id"),
                        Code.UNKNOWN_REFERENCE,
                        props["household_id"],
                        (
                            "{col}: no such household: import the households file first",
                            "{zh}：该户不存在，请先导入农户文件",
                        ),
                    )
                )
            elif village != props["village_code"]:
                issues.append(
                    make_issue(
                        number,
                        self.schema.column("village_code"),
                        Code.INCONSISTENT_VALUE,
                        props["village_code"],
                        (
                            "{col}: differs from the household's village",
                            "{zh}：与该户所在行政村不一致",
                        ),
                    )
                )
            if issues:
                found[number] = issues
        return found, self._against(batch, stored, "id", found)


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class ImportPipeline:
    def __init__(
        self,
        vault: PiiVault,
        store: ImportStore,
        imports: ImportRepository,
        records: DeptRecordRepository,
        settings: ImportSettings,
    ) -> None:
        self.vault = vault
        self.store = store
        self.imports = imports
        self.records = records
        self.settings = settings

    def target(self, schema: SourceSchema, scope: tuple[str, ...] = ("",)) -> _Target:
        if schema.entity is Entity.DEPT:
            return _DeptTarget(schema, self.vault, self.imports, self.records)
        if schema.entity is Entity.HOUSEHOLDS:
            return _HouseholdTarget(schema, self.vault, self.imports)
        if schema.entity is Entity.PERSONS:
            target = _PersonTarget(schema, self.vault, self.imports)
            target.scope = scope
            return target
        return _NeedTarget(schema, self.vault, self.imports)

    def writer(self, source: str) -> Writer:
        return WRITERS[schema_of(source).entity]

    def date_keys(self, source: str) -> tuple[str, ...]:
        return schema_of(source).date_columns

    def validate(self, request: ImportRequest, today: date | None = None) -> Validated:
        """Validate the stored file fully; stage good rows in chunks when they may be written
        (no bad row, or good-rows-only). The report lands in the store whatever happens."""
        schema = schema_of(request.source)
        attempt = self.store.new_attempt(request.job_id)
        ctx = Context(
            region_codes=self.imports.region_codes(),
            scope=request.scope,
            today=today or date.today(),
        )
        try:
            table = open_table(
                self.store.file_path(request.sha256),
                self.settings.max_file_bytes,
                self.settings.max_rows,
            )
        except ImportFileError as exc:
            return self._file_error(request, attempt, exc)
        with table:
            return self._validate_table(request, attempt, schema, table, ctx)

    def _validate_table(
        self,
        request: ImportRequest,
        attempt: str,
        schema: SourceSchema,
        table: TableFile,
        ctx: Context,
    ) -> Validated:
        try:
            header_map = map_header(table.header, schema)
        except ImportFileError as exc:
            return self._file_error(request, attempt, exc, table.format, table.encoding)
        target = self.target(schema, request.scope)
        validator = RowValidator(schema, header_map, ctx)
        tally = Tally()
        dups = DuplicateTracker(schema)
        chunker = _Chunker(self.store, request.job_id, attempt, self.settings.chunk_rows)
        looked_up_bad: set[int] = set()
        # All-or-nothing: the first bad row stops staging (every row is still checked).
        writing = True
        buffer: list[Staged] = []

        def drain(out: IssueWriter) -> None:
            nonlocal writing
            problems, present = target.check(buffer)
            for number, props, _ in buffer:
                issues = problems.get(number)
                if issues:
                    tally.add(issues, newly_bad=True)
                    out.write(issues)
                    looked_up_bad.add(number)
                    writing = writing and request.good_rows_only
                elif writing:
                    chunker.add(number, props, number in present)
            buffer.clear()

        with (
            self.store.scratch(request.job_id, attempt, "cells") as cell_issues,
            self.store.scratch(request.job_id, attempt, "stored") as stored_issues,
            self.store.scratch(request.job_id, attempt, "repeats") as repeat_issues,
        ):
            try:
                with (
                    self.store.issue_writer(cell_issues) as direct,
                    self.store.issue_writer(stored_issues) as looked_up,
                ):
                    for number, cells in table.rows:
                        checked = validator.check(number, cells)
                        if checked.blank:
                            tally.blank_rows += 1
                            continue
                        tally.rows += 1
                        issues = checked.issues
                        if checked.values is not None:
                            issues = dups.see(number, checked.values)
                        if issues:
                            tally.add(issues, newly_bad=True)
                            direct.write(issues)
                            writing = writing and request.good_rows_only
                            continue
                        props, masked = target.props(checked.values or {})
                        buffer.append((number, props, masked))
                        if len(buffer) >= self.settings.lookup_rows:
                            drain(looked_up)
                    drain(looked_up)
            except ImportFileError as exc:
                return self._file_error(request, attempt, exc, table.format, table.encoding)
            if tally.rows == 0:
                return self._file_error(
                    request,
                    attempt,
                    ImportFileError(
                        "empty_file",
                        "the file has a header but no data rows",
                        "文件只有表头，没有数据行",
                    ),
                    table.format,
                    table.encoding,
                )
            # Earlier rows that a later repeat with other values made bad.
            with self.store.issue_writer(repeat_issues) as out:
                for number in sorted(dups.retroactive):
                    issues = dups.retroactive[number]
                    tally.add(issues, newly_bad=number not in looked_up_bad)
                    out.write(issues)
            if dups.retroactive:
                writing = writing and request.good_rows_only
            self.store.merge_report(request.job_id, (cell_issues, stored_issues, repeat_issues))
        if not writing:
            outcome = ImportOutcome.REJECTED
        elif tally.good_rows == 0:
            outcome = ImportOutcome.NOTHING_TO_IMPORT
        else:
            outcome = ImportOutcome.IMPORTING
        sizes: list[int] = []
        if outcome is ImportOutcome.IMPORTING:
            chunker.flush()
            chunker.drop(set(dups.retroactive))
            sizes = chunker.sizes
        else:
            self.store.drop_attempt(request.job_id, attempt)
        summary = request.summary(
            outcome,
            format=table.format,
            encoding=table.encoding,
            rows=tally.rows,
            blank_rows=tally.blank_rows,
            good_rows=tally.good_rows,
            bad_rows=tally.bad_rows,
            issues=tally.issues,
            counts=dict(sorted(tally.codes.items())),
            chunks=len(sizes),
        )
        return Validated(summary, tuple(sizes), attempt)

    def _file_error(
        self,
        request: ImportRequest,
        attempt: str,
        exc: ImportFileError,
        fmt: str | None = None,
        encoding: str | None = None,
    ) -> Validated:
        self.store.drop_attempt(request.job_id, attempt)
        self.store.write_report(request.job_id, [])
        problem = ImportFileProblem(
            code=exc.code, message_en=exc.message, message_zh=exc.message_zh
        )
        return Validated(
            request.summary(
                ImportOutcome.FILE_ERROR, format=fmt, encoding=encoding, file_error=problem
            )
        )


class _Chunker:
    """Collects good rows into chunk files: the rows to create, their row numbers, and the
    rows already stored identically (counted, not written)."""

    def __init__(self, store: ImportStore, job_id: str, attempt: str, size: int) -> None:
        self.store = store
        self.job_id = job_id
        self.attempt = attempt
        self.size = size
        self.sizes: list[int] = []
        self._clear()

    def _clear(self) -> None:
        self.rows: list[Props] = []
        self.numbers: list[int] = []
        self.present: list[int] = []

    def add(self, number: int, props: Props, present: bool) -> None:
        if present:
            self.present.append(number)
        else:
            self.rows.append(props)
            self.numbers.append(number)
        if len(self.rows) + len(self.present) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.rows or self.present:
            chunk = StagedChunk(rows=self.rows, numbers=self.numbers, present=self.present)
            self.store.write_chunk(self.job_id, self.attempt, len(self.sizes), chunk)
            self.sizes.append(chunk.size)
        self._clear()

    def drop(self, numbers: set[int]) -> None:
        """Take rows out of the chunks already written (earlier rows a later repeat made
        bad: rare, so the chunk files are read back only then)."""
        if not numbers:
            return
        for no in range(len(self.sizes)):
            chunk = self.store.read_chunk(self.job_id, self.attempt, no, ())
            kept = [
                (n, r) for n, r in zip(chunk.numbers, chunk.rows, strict=True) if n not in numbers
            ]
            trimmed = StagedChunk(
                rows=[r for _, r in kept],
                numbers=[n for n, _ in kept],
                present=[n for n in chunk.present if n not in numbers],
            )
            if trimmed.size != chunk.size:
                self.store.write_chunk(self.job_id, self.attempt, no, trimmed)
                self.sizes[no] = trimmed.size
