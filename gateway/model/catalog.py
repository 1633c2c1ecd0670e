"""The catalog: every loaded data area, and the database naming scheme.

A kommune-specific database is named by its area's template with the kommune's three-digit
code (``FLIS Ukraine-101``); a benchmark database has one fixed name (``FLIS KL Databank``).
Names resolve case-insensitively, as SSAS catalog names do, to the canonical spelling, and
only for the 98 real kommune codes: ``FLIS Ukraine-999`` or a name with a trailing space
resolves to nothing. All names are computed once, when the catalog is built.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.errors import ModelError
from gateway.model.checks import KODE_PLACEHOLDER
from gateway.model.kommuner import Kommune
from gateway.model.types import AreaModel, Cube


@dataclass(frozen=True, slots=True)
class DatabaseRef:
    """One database a client can name: which area, and which kommune (None for a benchmark)."""

    name: str  # canonical: 'FLIS Ukraine-101'
    area: str  # area id: 'ukraine'
    grant_name: str  # 'FLIS DAP Ukraine'
    kommune_kode: str | None

    @property
    def is_benchmark(self) -> bool:
        return self.kommune_kode is None


def name_key(name: str) -> str:
    """How names compare: Unicode-normalised and case-folded, nothing trimmed."""
    return unicodedata.normalize("NFC", name).casefold()


def kommune_database_name(template: str, kode: str) -> str:
    return template.replace(KODE_PLACEHOLDER, kode)


class Catalog:
    """All area models, and every database name they give rise to. Immutable once built."""

    __slots__ = ("_areas", "_kommuner", "_databases", "_by_key")

    def __init__(self, areas: Iterable[AreaModel], kommuner: Iterable[Kommune]) -> None:
        by_id: dict[str, AreaModel] = {}
        grants: dict[str, AreaModel] = {}
        for area in areas:
            if area.id in by_id:
                other_file = by_id[area.id].source_file
                raise ModelError(area.source_file, "id", f"area id '{area.id}' is also used by {other_file}")
            other = grants.get(name_key(area.grant_name))
            if other is not None:
                problem = f"grant '{area.grant_name}' is also used by {other.source_file}"
                raise ModelError(area.source_file, "grant", problem)
            by_id[area.id] = area
            grants[name_key(area.grant_name)] = area
        self._areas: Mapping[str, AreaModel] = MappingProxyType(by_id)
        self._kommuner: Mapping[str, Kommune] = MappingProxyType({k.kode: k for k in kommuner})
        databases: list[DatabaseRef] = []
        by_key: dict[str, DatabaseRef] = {}
        for area in by_id.values():
            for ref, key in self._area_databases(area):
                clash = by_key.get(name_key(ref.name))
                if clash is not None:
                    raise ModelError(
                        area.source_file,
                        f"databases.{key}",
                        f"database name '{ref.name}' is also a database of area '{clash.area}'",
                    )
                by_key[name_key(ref.name)] = ref
                databases.append(ref)
        self._databases = tuple(databases)
        self._by_key: Mapping[str, DatabaseRef] = MappingProxyType(by_key)

    def _area_databases(self, area: AreaModel) -> Iterable[tuple[DatabaseRef, str]]:
        if area.naming.kommune is not None:
            for kode in self._kommuner:
                name = kommune_database_name(area.naming.kommune, kode)
                yield DatabaseRef(name, area.id, area.grant_name, kode), "kommune"
        if area.naming.benchmark is not None:
            yield DatabaseRef(area.naming.benchmark, area.id, area.grant_name, None), "benchmark"

    @property
    def areas(self) -> Mapping[str, AreaModel]:
        """Area id -> model, in load order (schema files sorted by name)."""
        return self._areas

    @property
    def kommuner(self) -> Mapping[str, Kommune]:
        """Kommune code -> kommune: the codes database names may carry."""
        return self._kommuner

    def resolve_database(self, name: str) -> DatabaseRef | None:
        """The database ``name`` denotes (any letter case), or None if there is none."""
        if not isinstance(name, str):
            return None
        return self._by_key.get(name_key(name))

    def databases_for(self, kommune_kode: str) -> list[DatabaseRef]:
        """Every database a user of this kommune could be granted: its own kommune databases
        and all benchmarks. Empty for an unknown kommune code."""
        if kommune_kode not in self._kommuner:
            return []
        return [ref for ref in self._databases if ref.kommune_kode in (None, kommune_kode)]

    def all_databases(self) -> list[DatabaseRef]:
        """Every database: each kommune area × each kommune, plus each benchmark."""
        return list(self._databases)

    def area_for(self, ref: DatabaseRef) -> AreaModel:
        self._own(ref)
        return self._areas[ref.area]

    def cubes_for(self, ref: DatabaseRef) -> tuple[Cube, ...]:
        """The cubes inside database ``ref``: the area's kommune or benchmark cubes."""
        area = self.area_for(ref)
        return area.benchmark_cubes if ref.is_benchmark else area.kommune_cubes

    def _own(self, ref: DatabaseRef) -> None:
        # a hand-made ref (say, with a kommune code that does not exist) is a programming error
        if self._by_key.get(name_key(ref.name)) != ref:
            raise ValueError(f"{ref!r} is not a database of this catalog")
