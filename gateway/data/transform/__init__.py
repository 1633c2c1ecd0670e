"""Per-area transforms: staged ``src_<table>`` tables -> the cube tables the model names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb

from gateway.data.transform import borger, kl_databank, ukraine, voksenhandicap

# (con, labels, *, kommune_kode, as_of, pseudonym_key, schema_dir) -> None; schema_dir is where
# reference lists kept beside the cube models live (Voksenhandicap's målgruppe codes).
Builder = Callable[..., None]


def _without_schema_dir(build: Builder) -> Builder:
    """An area that reads no reference list from the schema directory."""

    def builder(con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, schema_dir: Path, **options: object) -> None:
        build(con, labels, **options)

    return builder


BUILDERS: Mapping[str, Builder] = {
    "ukraine": _without_schema_dir(ukraine.build),
    "borger": _without_schema_dir(borger.build),
    "voksenhandicap": voksenhandicap.build,
    "kl_databank": _without_schema_dir(kl_databank.build),
}
