"""The KL Databank file as KL publishes it (seed ``004_e44483f0a426afbb``), from the cube.

    ID;Periode;Udtræksdato;Kommunenum;Kommunenavn;Resultat;Tæller;Nævner
    10121;2022;09-11-2021;340;Sorø;1072;32032889;29891

One row per key figure, period and kommune, read through the ``KL Databank`` cube (one cell
set: so the request's access decision, cell budget, disclosure control and audit event apply
to the file exactly as to a query). Rows are ordered as the seed shows them: by ID and
period, then by result, lowest first (the ranking KL prints), then by kommune number. The
kommune number is written without leading zeros and the extraction date as ``dd-mm-yyyy``.
"""

from __future__ import annotations

import datetime as dt
from gateway.engine.cellset import CellSet
from gateway.engine.query import CubeQuery, LevelItem

HEADER = ("ID", "Periode", "Udtræksdato", "Kommunenum", "Kommunenavn", "Resultat", "Tæller", "Nævner")
CUBE = "KL Databank"
LEVELS = (
    "[Nøgletal].[Nøgletal].[Nøgletal]",
    "[Periode].[Periode].[Periode]",
    "[Udtræksdato].[Udtræksdato].[Udtræksdato]",
    "[Kommune].[Kommune].[Kommune]",
)
MEASURES = ("[Measures].[Resultat]", "[Measures].[Tæller]", "[Measures].[Nævner]")

Row = tuple[str, str, str, str, str, "int | float | None", "int | float | None", "int | float | None"]


def query() -> CubeQuery:
    """Every figure × period × extraction date × kommune that has a value."""
    return CubeQuery(cube=CUBE, measures=MEASURES, rows=tuple(LevelItem(level) for level in LEVELS), non_empty=True)


def rows(cellset: CellSet) -> list[Row]:
    """The published rows, in the published order."""
    measures = [column.members[-1].unique_name for column in cellset.axes[0].tuples]
    if tuple(measures) != MEASURES:
        raise ValueError(f"the KL Databank cell set has columns {measures}, expected {list(MEASURES)}")
    width = len(measures)
    found: list[Row] = []
    for index, line in enumerate(cellset.axes[1].tuples):
        figure, period, extracted, kommune = line.members
        values = [cell.value for cell in cellset.cells[index * width : (index + 1) * width]]
        found.append((
            figure.key, period.key, _dmy(extracted.key), _kommunenum(kommune.key), kommune.caption,
            values[0], values[1], values[2],
        ))
    found.sort(key=_published_order)
    return found


def _published_order(row: Row) -> tuple[object, ...]:
    result = row[5]
    return (row[0], row[1], result is None, result if result is not None else 0, int(row[3]))


def _dmy(key: str) -> str:
    return dt.date.fromisoformat(key).strftime("%d-%m-%Y")


def _kommunenum(key: str) -> str:
    return str(int(key))
