"""Writes streamed batches to one UTF-8 CSV per table while passing them on."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from graph.synthetic.tables import TABLE_COLUMNS, Batch


def _cell(value: object) -> object:
    # Lower-case booleans are what Neo4j's toBoolean() and most CSV readers expect.
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def write_csv(batches: Iterable[Batch], out_dir: Path) -> Iterator[Batch]:
    """Append each batch's rows to `<out_dir>/<table>.csv` and yield the batch unchanged.

    Files are started afresh (header only) before the first batch, so one pass over a run gives
    one complete set of CSVs; every table gets a file even if it stays empty.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for table, columns in TABLE_COLUMNS.items():
        with (out / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerow(columns)
    for batch in batches:
        for table, rows in batch.tables.items():
            if not rows:
                continue
            columns = TABLE_COLUMNS[table]
            with (out / f"{table}.csv").open("a", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerows([_cell(row[c]) for c in columns] for row in rows)
        yield batch
