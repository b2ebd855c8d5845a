"""Importing files: households, members and needs in the generator's CSV format, and department
data (民政, 教育, 人社, 公安, 医保, 残联, 市场监管) as CSV or XLSX.

schemas.py declares every source's columns; reader.py turns a file into header and cells
(encoding, format, size); validation.py is pure and reports every bad cell; store.py keeps the
uploaded file, the staged chunks and the report on disk; pipeline.py runs validation against
the graph and stages good rows in chunks that the workers write; export.py writes reports with
spreadsheet formulas neutralised.
"""
