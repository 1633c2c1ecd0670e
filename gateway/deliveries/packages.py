"""The datapakker on offer: which database each reads, its number, and its files' names.

A package is named as the FTP deliveries it replaces were (seed ``004``):
``DSA-101-844-20181101-201811231500.zip`` = ``DSA-<kommune>-<package number>-<data as of,
yyyymmdd>-<version built, yyyymmddHHMM UTC>``; the CSV inside has the same stem. 844 is the
number of the KL Databank package in the seed's listing (its ``kldatabank`` folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.deliveries import kl_databank
from gateway.deliveries.danish_csv import Cell
from gateway.engine.cellset import CellSet
from gateway.engine.query import CubeQuery

Rows = Sequence[Sequence[Cell]]


@dataclass(frozen=True, slots=True)
class Package:
    id: str  # the URL and CLI name: /datapakker/kl_databank
    number: str  # the package number in the file name (DSA-<kode>-<number>-...)
    title: str
    database: str  # the cube database it is read from
    query: Callable[[], CubeQuery]
    header: tuple[str, ...]
    rows: Callable[[CellSet], Rows]
    layout_version: int = 1  # bump when the file layout changes: every ETag changes with it

    def file_stem(self, kommune_kode: str, data_as_of: dt.date | None, built_at: dt.datetime | None) -> str:
        as_of = data_as_of.strftime("%Y%m%d") if data_as_of else "00000000"
        built = built_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M") if built_at else "000000000000"
        return f"DSA-{kommune_kode}-{self.number}-{as_of}-{built}"


PACKAGES: tuple[Package, ...] = (
    Package(
        id="kl_databank",
        number="844",
        title="KL Databank (Kend din Kommune)",
        database="FLIS KL Databank",
        query=kl_databank.query,
        header=kl_databank.HEADER,
        rows=kl_databank.rows,
    ),
)


def find_package(package_id: str) -> Package | None:
    """By id (``kl_databank``) or number (``844``), case-insensitively; None when unknown."""
    wanted = package_id.strip().lower()
    return next((p for p in PACKAGES if wanted in (p.id, p.number)), None)
