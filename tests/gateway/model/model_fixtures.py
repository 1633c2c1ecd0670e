"""Helpers for model tests (a uniquely named module, since conftest modules share one name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parents[3]
SCHEMA_DIR = REPO / "schema"

WriteModel = Callable[..., Path]


def small_area() -> dict[str, Any]:
    """A valid area using every measure kind; tests copy it and break one thing."""
    return {
        "id": "omr",
        "name": "Område",
        "grant": "FLIS DAP Område",
        "description": "Et lille testområde.",
        "databases": {"kommune": "FLIS Område-{kode}", "benchmark": None},
        "kommune_cubes": [
            {
                "name": "Hændelser",
                "fact_table": "fakta",
                "dimensions": [
                    {
                        "name": "Tid",
                        "table": "dim_tid",
                        "key": "dato",
                        "foreign_key": "dato",
                        "time": True,
                        "days": "dage",
                        "hierarchies": [
                            {
                                "name": "Tid",
                                "levels": [
                                    {"name": "År", "key": "aar"},
                                    {"name": "Måned", "key": "maaned", "caption": "maaned_tekst"},
                                ],
                            }
                        ],
                    },
                    {
                        "name": "Køn",
                        "table": "dim_koen",
                        "key": "koen",
                        "foreign_key": "koen",
                        "hierarchies": [{"name": "Køn", "levels": [{"name": "Køn", "key": "koen"}]}],
                    },
                ],
                "measures": [
                    {"name": "Ind", "kind": "sum", "column": "ind"},
                    {"name": "Ud", "kind": "sum", "column": "ud"},
                    {"name": "Netto", "kind": "calculated", "expression": "[Ind] - [Ud]"},
                    {"name": "Akkumuleret", "kind": "running_total", "of": "Netto", "along": "Tid"},
                    {"name": "Helårsmodtagere", "kind": "days_weighted", "column": "dage_modtaget", "along": "Tid"},
                    {"name": "Pr. 10.000", "kind": "ratio", "numerator": "Ind", "denominator": "Ud", "scale": 10000},
                ],
            }
        ],
        "benchmark_cubes": [],
    }
