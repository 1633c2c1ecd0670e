"""The 98 kommuner: codes that may appear in database names (``FLIS Ukraine-101``).

Read from ``gateway/data/kommuner.csv`` (shipped with the package). The population is a rough
figure used only to size synthetic data.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gateway.errors import LoadError

KODE = re.compile(r"[0-9]{3}")
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_COLUMNS = ("kode", "navn", "region", "indbyggere_ca")


@dataclass(frozen=True, slots=True)
class Kommune:
    kode: str  # three digits, e.g. '101'
    navn: str  # 'København'
    region: str  # 'Hovedstaden'
    indbyggere: int  # rough population


def load_kommuner(path: Path | None = None) -> tuple[Kommune, ...]:
    """Every kommune in the file (default: the packaged list), in file order."""
    if path is None:
        source = resources.files("gateway.data").joinpath("kommuner.csv")
        label = "gateway/data/kommuner.csv"
        text = source.read_text(encoding="utf-8")
    else:
        label = str(path)
        text = path.read_text(encoding="utf-8")
    return parse_kommuner(text, label)


def parse_kommuner(text: str, label: str) -> tuple[Kommune, ...]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise LoadError(label, f"expected the columns {', '.join(_COLUMNS)}", row=1)
    kommuner: list[Kommune] = []
    seen: set[str] = set()
    for row_number, row in enumerate(reader, start=2):
        kode = row["kode"] or ""
        if not KODE.fullmatch(kode):
            raise LoadError(label, f"kode {kode!r} is not three digits", row=row_number, column="kode")
        if kode in seen:
            raise LoadError(label, f"kode {kode} appears twice", row=row_number, column="kode")
        seen.add(kode)
        navn, region = (row["navn"] or "").strip(), (row["region"] or "").strip()
        if not navn or not region:
            raise LoadError(label, "navn and region must not be empty", row=row_number)
        population = row["indbyggere_ca"] or ""
        if not _WHOLE_NUMBER.fullmatch(population):
            raise LoadError(label, f"{population!r} is not a whole number", row=row_number, column="indbyggere_ca")
        kommuner.append(Kommune(kode, navn, region, int(population)))
    return tuple(kommuner)
