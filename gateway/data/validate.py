"""Stage source files into ``src_<table>`` tables, refusing anything that disagrees with the layout.

Every refusal is a LoadError naming the file, the row and the column. Rows are numbered as a
person finds them: in a CSV file the line number (the header is line 1), in a Parquet file
the 1-based row index. Each staged table carries that number in ``_row``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb

from gateway.data.layout import Column, SourceLayout, SourceTable
from gateway.errors import LoadError


def find_file(source_dir: Path, table: SourceTable) -> Path | None:
    found = [p for p in (source_dir / f"{table.name}.csv", source_dir / f"{table.name}.parquet") if p.is_file()]
    if len(found) > 1:
        raise LoadError(str(found[0]), f"both {table.name}.csv and {table.name}.parquet exist; keep one")
    return found[0] if found else None


def _check_columns(label: str, table: SourceTable, names: list[str]) -> None:
    expected = [c.name for c in table.columns]
    for name in expected:
        if name not in names:
            raise LoadError(label, f"missing column (expected {', '.join(expected)})", row=1, column=name)
    for name in names:
        if name not in expected:
            raise LoadError(label, "unexpected column (not in the layout; see docs/data-layout.md)", row=1, column=name)
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise LoadError(label, "column appears twice", row=1, column=sorted(duplicates)[0])


def _csv_header(path: Path, table: SourceTable) -> tuple[list[str], str]:
    label = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            line = handle.readline()
    except UnicodeDecodeError:
        raise LoadError(label, "the header is not UTF-8 text", row=1) from None
    if not line.strip():
        raise LoadError(label, "empty file: no header line", row=1)
    delimiter = max(table.csv_delimiters, key=line.count)
    names = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def _read_type(column: Column) -> str:
    return "VARCHAR" if column.date_format else column.type


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: SourceTable) -> None:
    label = str(path)
    names, delimiter = _csv_header(path, table)
    _check_columns(label, table, names)
    by_name = {c.name: c for c in table.columns}
    columns = "{" + ", ".join(f"'{n}': '{_read_type(by_name[n])}'" for n in names) + "}"
    rejects = f"rej_{table.name}"
    try:
        con.execute(
            f"""CREATE TEMP TABLE csv_{table.name} AS SELECT * FROM read_csv($path, header = true, delim = $delim,
                quote = '"', escape = '"', columns = {columns}, auto_detect = false, store_rejects = true,
                rejects_table = '{rejects}', rejects_scan = '{rejects}_scan', encoding = 'utf-8',
                decimal_separator = $decimal)""",
            # ';' is the Danish spreadsheet separator, so its numbers carry a decimal comma
            # (the datapakker write them so; gateway.deliveries.danish_csv)
            {"path": str(path), "delim": delimiter, "decimal": "," if delimiter == ";" else "."},
        )
    except duckdb.Error as error:
        raise LoadError(label, f"cannot be read as CSV: {str(error).splitlines()[0]}") from None
    bad = con.execute(
        f"SELECT line, column_name, error_type, error_message FROM {rejects} ORDER BY line LIMIT 1"
    ).fetchone()
    if bad is not None:
        line, column, kind, message = bad
        problem = {
            "MISSING COLUMNS": "too few values (truncated line?)",
            "TOO MANY COLUMNS": "too many values",
            "INVALID ENCODING": "not UTF-8 text",
        }.get(str(kind), str(message).split(". ", 1)[-1] if kind == "CAST" else str(message))
        raise LoadError(label, problem, row=int(line), column=column)
    con.execute(f"CREATE TABLE src_{table.name} AS SELECT *, (rowid + 2)::BIGINT AS _row FROM csv_{table.name}")
    con.execute(f"DROP TABLE csv_{table.name}")


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: SourceTable) -> None:
    label = str(path)
    source = "read_parquet($path, file_row_number = true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}", {"path": str(path)}).fetchall()
        con.execute(f"SELECT count(*) FROM {source}", {"path": str(path)}).fetchone()
    except duckdb.Error as error:
        raise LoadError(label, f"not a readable Parquet file (truncated or corrupt?): {str(error).splitlines()[0]}") from None
    types = {row[0]: str(row[1]) for row in described if row[0] != "file_row_number"}
    _check_columns(label, table, list(types))
    selects = []
    for column in table.columns:
        quoted = f'"{column.name}"'
        if column.date_format and types[column.name] == "VARCHAR":
            converted = f"try_strptime({quoted}, '{column.date_format}')::DATE"
        elif types[column.name] == column.type:
            selects.append(quoted)
            continue
        else:
            converted = f"TRY_CAST({quoted} AS {column.type})"
        bad = con.execute(
            f"SELECT file_row_number + 1, {quoted}::VARCHAR FROM {source} WHERE {quoted} IS NOT NULL AND {converted} IS NULL "
            "ORDER BY file_row_number LIMIT 1",
            {"path": str(path)},
        ).fetchone()
        if bad is not None:
            raise LoadError(label, f"value {bad[1]!r} is not a {column.type.lower()}", row=int(bad[0]), column=column.name)
        selects.append(f"{converted} AS {quoted}")
    con.execute(
        f"CREATE TABLE src_{table.name} AS SELECT {', '.join(selects)}, (file_row_number + 1)::BIGINT AS _row FROM {source} "
        "ORDER BY file_row_number",
        {"path": str(path)},
    )


def _check_rows(con: duckdb.DuckDBPyConnection, label: str, table: SourceTable) -> None:
    staged = f"src_{table.name}"
    for column in table.columns:
        if column.date_format and _is_text(con, staged, column.name):
            _convert_dates(con, label, staged, column)
    required = [f'"{c.name}"' for c in table.columns if not c.nullable]
    if required:
        bad = con.execute(
            f"SELECT _row, {', '.join(f'{q} IS NULL' for q in required)} FROM {staged} "
            f"WHERE {' OR '.join(f'{q} IS NULL' for q in required)} ORDER BY _row LIMIT 1"
        ).fetchone()
        if bad is not None:
            column_name = next(q.strip('"') for q, null in zip(required, bad[1:]) if null)
            raise LoadError(label, "empty value where one is required", row=int(bad[0]), column=column_name)
    for column in table.columns:
        if column.minimum is not None or column.maximum is not None:
            _check_range(con, label, staged, column)
    if table.key:
        keys = ", ".join(f'"{k}"' for k in table.key)
        bad = con.execute(
            f"""SELECT min(_row), list(_row ORDER BY _row)[2], concat_ws(' / ', {keys}) FROM {staged}
                GROUP BY {keys} HAVING count(*) > 1 ORDER BY 2 LIMIT 1"""
        ).fetchone()
        if bad is not None:
            raise LoadError(
                label, f"duplicate key {bad[2]!r} (first on row {bad[0]})", row=int(bad[1]), column=table.key[-1]
            )


def _check_range(con: duckdb.DuckDBPyConnection, label: str, staged: str, column: Column) -> None:
    """An INTEGER outside the layout's range (a month 13, a negative count): the first such row."""
    quoted = f'"{column.name}"'
    outside = [f"{quoted} < {int(column.minimum)}" if column.minimum is not None else "",
               f"{quoted} > {int(column.maximum)}" if column.maximum is not None else ""]
    bad = con.execute(
        f"SELECT _row, {quoted} FROM {staged} WHERE {' OR '.join(c for c in outside if c)} ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad is not None:
        raise LoadError(label, f"value {bad[1]} is not {column.what} ({column.bounds()})", row=int(bad[0]), column=column.name)


def _convert_dates(con: duckdb.DuckDBPyConnection, label: str, staged: str, column: Column) -> None:
    """A date written as text in the column's own format (KL Databank: dd-mm-yyyy) -> DATE."""
    quoted, fmt = f'"{column.name}"', column.date_format
    bad = con.execute(
        f"SELECT _row, {quoted} FROM {staged} WHERE {quoted} IS NOT NULL AND try_strptime({quoted}, $fmt) IS NULL "
        "ORDER BY _row LIMIT 1",
        {"fmt": fmt},
    ).fetchone()
    if bad is not None:
        shown = str(fmt).replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")
        raise LoadError(label, f"{bad[1]!r} is not a date in the form {shown}", row=int(bad[0]), column=column.name)
    con.execute(
        f"CREATE OR REPLACE TABLE {staged} AS SELECT * REPLACE (strptime({quoted}, $fmt)::DATE AS {quoted}) "
        "FROM " + staged + " ORDER BY _row",
        {"fmt": fmt},
    )


def _is_text(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    found = con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = $t AND column_name = $c", {"t": table, "c": column}
    ).fetchone()
    return bool(found) and str(found[0]) == "VARCHAR"


def stage(
    con: duckdb.DuckDBPyConnection, layout: SourceLayout, source_dir: Path, *, step: Callable[[str], None] = lambda _: None
) -> dict[str, str]:
    """Stage every table of ``layout`` from ``source_dir``; returns table -> file label."""
    if not source_dir.is_dir():
        raise LoadError(str(source_dir), "source directory does not exist")
    labels: dict[str, str] = {}
    for table in layout.tables:
        path = find_file(source_dir, table)
        if path is None:
            if table.optional:
                continue
            raise LoadError(str(source_dir / f"{table.name}.csv"), f"missing file (expected {table.name}.csv or .parquet)")
        step(table.name)
        (_stage_csv if path.suffix == ".csv" else _stage_parquet)(con, path, table)
        _check_rows(con, str(path), table)
        labels[table.name] = str(path)
    for table in layout.tables:
        for ref in table.references if table.name in labels else ():
            if ref.table not in labels:
                continue  # an optional table that is absent: nothing to check against
            target = layout.table(ref.table)
            key = target.key[0]
            bad = con.execute(
                f"""SELECT s._row, s."{ref.column}" FROM src_{table.name} s WHERE s."{ref.column}" IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM src_{ref.table} t WHERE t."{key}" = s."{ref.column}")
                    ORDER BY s._row LIMIT 1"""
            ).fetchone()
            if bad is not None:
                raise LoadError(
                    labels[table.name], f"value {bad[1]!r} has no row in {Path(labels[ref.table]).name}",
                    row=int(bad[0]), column=ref.column,
                )
    return labels
