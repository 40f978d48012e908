"""Excel workbooks as input: a sheet to a Parquet file that ``input_path`` can name.

DuckDB reads Excel only through its ``excel`` extension, which cannot be installed everywhere,
so a workbook is converted with python-calamine (a Rust reader, no Excel needed). Every cell
is written as text, exactly as staging expects from a CSV: the checks, reject reasons and
row numbers are the same as for the CSV export of that sheet (row n of the sheet's data is
source_row_number n).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _text(value: object) -> str | None:
    """A cell as the text a CSV export would hold: whole floats without ``.0``, ISO dates,
    empty cells as null."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def sheet_table(path: str | Path, sheet: str | int = 0) -> pa.Table:
    """The sheet's first row as column names, every later row as text: (rows, columns),
    all ``string``. Raises ValueError naming the file for an unreadable or empty sheet, or a
    header that names a column twice."""
    name, rows = _read_sheet(path, sheet)
    if not rows or _is_blank(rows[0]):
        raise ValueError(f"{path}: sheet {name!r} is empty (no header row)")
    header = _header(path, rows[0])
    body = list(rows[1:])
    while body and _is_blank(body[-1]):
        body.pop()  # trailing empty rows are the sheet's used range, not data
    columns = {
        column: pa.array([_text(row[i]) if i < len(row) else None for row in body], pa.string())
        for i, column in enumerate(header)
    }
    return pa.table(columns)


def _read_sheet(path: str | Path, sheet: str | int) -> tuple[str, list[list]]:
    """(sheet name, its rows as Python values); ValueError naming the file if unreadable."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        name = workbook.sheet_names[sheet] if isinstance(sheet, int) else sheet
        return name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as error:  # the reader's own errors differ by format
        raise ValueError(f"{path}: cannot read the workbook ({error})") from None


def _is_blank(row: list) -> bool:
    return not any(cell not in (None, "") for cell in row)


def _header(path: str | Path, first_row: list) -> list[str]:
    """Column names from the first row (``column_<i>`` for a blank cell); ValueError when
    a name repeats (case-insensitively)."""
    header = [(_text(cell) or f"column_{i + 1}").strip() for i, cell in enumerate(first_row)]
    seen: set[str] = set()
    for column in header:
        if column.lower() in seen:
            raise ValueError(f"{path}: the header names column {column!r} twice")
        seen.add(column.lower())
    return header


def convert(path: str | Path, out: str | Path | None = None, sheet: str | int = 0) -> Path:
    """Write the sheet as Parquet (default: beside the workbook, same name, ``.parquet``);
    returns the Parquet path."""
    source = Path(path)
    if not source.exists():
        raise ValueError(f"{source}: file not found")
    target = Path(out) if out else source.with_suffix(".parquet")
    pq.write_table(sheet_table(source, sheet), target)
    return target


_INPUT_PATH = re.compile(r"(input_path\s*:\s*)(['\"]?)([^'\",}]+?\.(?:xlsx|xlsm|xls|xlsb|ods))\2")


def converted_args(
    args: list[str], folder: str | Path = "target/inputs", echo: Callable[[str], None] = print
) -> list[str]:
    """dbt arguments with an Excel ``input_path`` in ``--vars`` replaced by its Parquet copy,
    written to ``folder``."""
    result = list(args)
    for i, arg in enumerate(result):
        if i == 0 or result[i - 1] != "--vars":
            continue
        found = _INPUT_PATH.search(arg)
        if found is None:
            continue
        workbook = Path(found[3].strip())
        out = Path(folder) / workbook.with_suffix(".parquet").name
        out.parent.mkdir(parents=True, exist_ok=True)
        written = convert(workbook, out)
        echo(f"{workbook}: converted to {written} ({pq.read_metadata(written).num_rows:,} rows)")
        result[i] = arg[: found.start(3)] + str(written) + arg[found.end(3) :]
    return result
