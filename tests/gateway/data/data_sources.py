"""Hand-made source files for the data tests (imported by conftest and the tests)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

UKRAINE_HEADER = ("dato", "aldersgruppe", "koen", "aegtefaelle", "fra_kommune", "til_kommune",
                  "indrejst", "udrejst", "tilflyttet", "fraflyttet")
UKRAINE_ROWS = (
    ("2022-03-10", "18-29", "K", "Nej", "000", "101", "1", "0", "0", "0"),
    ("2022-04-02", "0-17", "M", "Nej", "000", "101", "1", "0", "0", "0"),
    ("2022-05-20", "30-49", "K", "Ja", "101", "751", "0", "0", "0", "1"),
)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_ukraine_source(directory: Path, rows: Sequence[Sequence[str]] = UKRAINE_ROWS) -> Path:
    write_csv(directory / "haendelser.csv", UKRAINE_HEADER, rows)
    write_csv(directory / "dim_aldersgruppe.csv", ("aldersgruppe", "aldersgruppe_tekst", "sortering"),
              [("0-17", "0-17 år", "1"), ("18-29", "18-29 år", "2"), ("30-49", "30-49 år", "3")])
    write_csv(directory / "dim_koen.csv", ("koen", "koen_tekst"), [("K", "Kvinde"), ("M", "Mand")])
    write_csv(directory / "dim_aegtefaelle.csv", ("aegtefaelle", "aegtefaelle_tekst"), [("Ja", "Ja"), ("Nej", "Nej")])
    write_csv(directory / "dim_kommune.csv", ("kode", "navn", "region"),
              [("000", "Udlandet", "Udlandet"), ("101", "København", "Hovedstaden"), ("751", "Aarhus", "Midtjylland")])
    return directory
