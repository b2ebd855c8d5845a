"""Deterministic synthetic province generator, calibrated to the seed document's figures.

Pure Python and numpy; it never talks to a database. `generate` streams Batches (regions and
upper-level helpers first, then one per county); `write_csv` tees them into CSV files.
"""

from __future__ import annotations

from graph.synthetic.csv_export import write_csv
from graph.synthetic.generator import generate
from graph.synthetic.layout import Layout, build_layout, province_layout
from graph.synthetic.scales import CALIBRATION, Scale
from graph.synthetic.tables import TABLE_COLUMNS, Batch

__all__ = [
    "CALIBRATION",
    "TABLE_COLUMNS",
    "Batch",
    "Layout",
    "Scale",
    "build_layout",
    "generate",
    "province_layout",
    "write_csv",
]
