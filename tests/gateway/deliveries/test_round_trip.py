"""A delivered KL Databank CSV (``;``, BOM, decimal comma) loads back with every value intact."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from gateway.data.loader import LoadRequest, load_database
from gateway.deliveries.danish_csv import csv_bytes
from gateway.deliveries.kl_databank import HEADER
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

ROWS = [
    ("10121", "2022", "09-11-2021", "340", "Sorø", 1072, 32032889, 29891),
    ("20211", "2022", "09-11-2021", "340", "Sorø", 93.25, 2984, 3200),
    ("20211", "2022", "09-11-2021", "727", "Odder", None, None, 2100),
]


def test_a_delivered_file_loads_back_unchanged(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "kl_databank.csv").write_bytes(b"".join(csv_bytes(HEADER, ROWS)))
    (source / "dim_kommune.csv").write_text("kode,navn,region\n340,Sorø,Sjælland\n727,Odder,Midtjylland\n",
                                            encoding="utf-8")
    registry = DatabaseRegistry.from_settings(settings)
    try:
        load_database(LoadRequest("kl_databank", None, source, as_of=date(2021, 11, 9)),
                      schema_dir=settings.schema_dir, registry=registry)
        with registry.connect("FLIS KL Databank") as connection:
            found = connection.execute(sa.text(
                "SELECT noegletal_id, periode, udtraeksdato, kommune, resultat, taeller, naevner "
                "FROM noegletal_vaerdier ORDER BY noegletal_id, kommune")).all()
    finally:
        registry.close()
    assert [tuple(row) for row in found] == [
        ("10121", "2022", "2021-11-09", "340", 1072.0, 32032889.0, 29891.0),
        ("20211", "2022", "2021-11-09", "340", 93.25, 2984.0, 3200.0),
        ("20211", "2022", "2021-11-09", "727", None, None, 2100.0),
    ]
