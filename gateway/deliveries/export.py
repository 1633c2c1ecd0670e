"""Any cube query's answer as a file: CSV (Danish Excel) or Parquet, so an analyst can take a
pivot's data out. The request body is the GraphQL ``CubeQuery`` input as JSON, the answer the
same table the ``rowset`` field gives: one column per row level (member captions), one per
column tuple (values)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import Any

from gateway.api.execute_types import AxisItemInput, CubeQueryInput, OrderInput
from gateway.deliveries.danish_csv import csv_bytes
from gateway.engine.cellset import CellSet
from gateway.errors import QueryError

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
_ACCEPT = {"text/csv": "csv", "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet"}
_FIELDS = {"cube", "measures", "columns", "rows", "slicers", "excludeSlicers", "nonEmpty", "orderBy", "limit", "offset", "totals"}


def choose_format(requested: str | None, accept: str | None) -> str:
    """``?format=`` wins, else the Accept header; CSV when neither names one we make."""
    if requested:
        if requested not in FORMATS:
            raise QueryError(f"Unknown format '{requested[:40]}'; use csv or parquet.")
        return requested
    for part in (accept or "").split(","):
        found = _ACCEPT.get(part.split(";")[0].strip().lower())
        if found:
            return found
    return "csv"


def query_input_from_json(data: object) -> CubeQueryInput:
    """The ``CubeQuery`` GraphQL input, written as JSON (camelCase names), checked for shape."""
    if not isinstance(data, Mapping):
        raise QueryError("'query' must be an object with cube, measures, rows, ...")
    unknown = set(data) - _FIELDS
    if unknown:
        raise QueryError(f"Unknown field(s) in 'query': {', '.join(sorted(str(u)[:40] for u in unknown))}.")
    return CubeQueryInput(
        cube=_text(data.get("cube"), "cube"),
        measures=_texts(data.get("measures"), "measures"),
        columns=_axis(data.get("columns", []), "columns"),
        rows=_axis(data.get("rows", []), "rows"),
        slicers=_texts(data.get("slicers", []), "slicers"),
        exclude_slicers=_texts(data.get("excludeSlicers", []), "excludeSlicers"),
        non_empty=_bool(data.get("nonEmpty", True), "nonEmpty"),
        order_by=_orders(data.get("orderBy", [])),
        limit=None if data.get("limit") is None else _int(data.get("limit"), "limit"),
        offset=_int(data.get("offset", 0), "offset"),
        totals=_bool(data.get("totals", False), "totals"),
    )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise QueryError(f"'{where}' must be a string.")
    return value


def _texts(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise QueryError(f"'{where}' must be a list of strings.")
    return [_text(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise QueryError(f"'{where}' must be true or false.")
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"'{where}' must be a whole number.")
    return value


def _axis(value: object, where: str) -> list[AxisItemInput]:
    if not isinstance(value, list):
        raise QueryError(f"'{where}' must be a list of {{level}} or {{members}} objects.")
    items = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) - {"level", "members"}:
            raise QueryError(f"'{where}[{i}]' must be an object with 'level' or 'members'.")
        level = item.get("level")
        members = item.get("members")
        items.append(AxisItemInput(
            level=None if level is None else _text(level, f"{where}[{i}].level"),
            members=None if members is None else _texts(members, f"{where}[{i}].members"),
        ))
    return items


def _orders(value: object) -> list[OrderInput]:
    if not isinstance(value, list):
        raise QueryError("'orderBy' must be a list.")
    orders = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) - {"measure", "level", "descending"}:
            raise QueryError(f"'orderBy[{i}]' must be an object with 'measure' or 'level' and 'descending'.")
        measure, level = item.get("measure"), item.get("level")
        orders.append(OrderInput(
            measure=None if measure is None else _text(measure, f"orderBy[{i}].measure"),
            level=None if level is None else _text(level, f"orderBy[{i}].level"),
            descending=_bool(item.get("descending", False), f"orderBy[{i}].descending"),
        ))
    return orders


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def table(cellset: CellSet) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """(column names, rows, how many leading columns are member captions)."""
    rowset = cellset.to_rowset()
    return _unique([c.name for c in rowset.columns]), [tuple(r) for r in rowset.rows], len(cellset.row_levels)


def csv_file(cellset: CellSet) -> Iterator[bytes]:
    names, rows, _ = table(cellset)
    return csv_bytes(names, rows)


def parquet_file(cellset: CellSet) -> bytes:
    """Member captions as strings, measure values as float64 (null when empty)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names, rows, levels = table(cellset)
    columns = []
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        kind = pa.string() if index < levels else pa.float64()
        columns.append(pa.array([None if v is None else (str(v) if index < levels else float(v)) for v in values], kind))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(columns, names=names), buffer, compression="zstd")
    return buffer.getvalue()
