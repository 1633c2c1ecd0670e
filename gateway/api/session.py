"""The only way from a GraphQL resolver to a cube database.

A :class:`DataSession` belongs to one request. Every database it hands out went through
:func:`gateway.access.decide` first, and every denial, whether the database is forbidden,
unknown or not loaded, raises the same :class:`AccessDeniedError`. Person-level levels are cut
out of the cube models a session hands out unless the caller holds an individual grant, so
Discover cannot show them and Execute cannot name them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Sized
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection

from gateway.access import Action, Decision, GrantView, decide
from gateway.api.context import RequestTrail
from gateway.api.discover import Kommune, Member, MemberPage
from gateway.api.execute_types import CubeQueryInput, ExecuteResult
from gateway.api.me import Grant, Me
from gateway.api.results import cube_query_from_input, execute_result
from gateway.engine import cellset as engine_cellset
from gateway.engine.execute import Limits, query_timeout, run_query
from gateway.engine.query import CubeQuery
from gateway.engine.cache import EngineCache, VersionMemo
from gateway.engine.members import count_level_members, get_member, list_members, member_children, member_parent
from gateway.engine.resolve import LevelRef, find_cube, resolve_level, resolve_member
from gateway.engine.totals import with_totals
from gateway.errors import AccessDeniedError, LimitExceededError, QueryTimeoutError
from gateway.model import Catalog, DatabaseRef
from gateway.model import Kommune as KommuneModel
from gateway.model.types import Cube, Dimension, Hierarchy
from gateway.principal import Principal
from gateway.registry import DatabaseRegistry, RegisteredDatabase
from gateway.settings import Settings
from gateway.store.store import MetadataStore


MAX_CACHED_GRANT_SETS = 10_000


class _HasCells(Protocol):
    @property
    def cells(self) -> Sized: ...


_Answer = TypeVar("_Answer", bound=_HasCells)


@dataclass(frozen=True)
class _Remembered(Generic[_Answer]):
    """A cached answer with the audit marks computing it left (its cells weigh it in the cache)."""

    answer: _Answer
    operations: tuple[str, ...]

    @property
    def cells(self) -> Sized:
        return self.answer.cells


@dataclass(frozen=True)
class OpenCatalog:
    """A database the caller may read, with the cubes as the caller may see them."""

    ref: DatabaseRef
    kommune: KommuneModel | None
    description: str
    data_as_of: dt.date | None
    cubes: tuple[Cube, ...]
    allow_individual: bool
    registered: RegisteredDatabase  # the version this request reads

    def cube(self, name: str) -> Cube:
        return find_cube(list(self.cubes), name)


@dataclass(frozen=True)
class SessionFactory:
    """Makes one :class:`DataSession` per request from the gateway's long-lived parts."""

    settings: Settings
    catalog: Catalog
    registry: DatabaseRegistry
    store: MetadataStore
    cache: EngineCache | None = None  # results and member lookups per immutable database version
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _visible: dict[tuple[str, bool, bool], tuple[Cube, ...]] = field(default_factory=dict, repr=False)
    _grants: dict[int, tuple[int, tuple[GrantView, ...]]] = field(default_factory=dict, repr=False)

    def __call__(self, principal: Principal, trail: RequestTrail, *, revision: int | None = None) -> DataSession:
        """``revision``: the metadata revision the identity step checked for this request."""
        return DataSession(self, principal, trail, now=self.clock(), revision=revision)

    def grants_for(self, principal: Principal, revision: int | None) -> tuple[GrantView, ...]:
        """The principal's grants, read again whenever the metadata revision moved.

        Every change to grants, users or certificates bumps the revision, and the identity
        step checks it on every request, so a revoked grant is gone from the next request on.
        Validity in time (valid_from/valid_to) is judged by ``decide`` at each request.
        """
        if revision is None:
            return self.store.grants_for(principal)
        cached = self._grants.get(principal.user_id)
        if cached is not None and cached[0] == revision:
            return cached[1]
        grants = self.store.grants_for(principal)
        if len(self._grants) >= MAX_CACHED_GRANT_SETS:
            self._grants.clear()
        self._grants[principal.user_id] = (revision, grants)
        return grants

    def visible_cubes(self, ref: DatabaseRef, allow_individual: bool) -> tuple[Cube, ...]:
        """The database's cubes, without person-level levels unless ``allow_individual``.

        The model never changes while the process runs, so each variant is made once.
        """
        key = (ref.area, ref.is_benchmark, allow_individual)
        cubes = self._visible.get(key)
        if cubes is None:
            cubes = self.catalog.cubes_for(ref)
            if not allow_individual:
                cubes = tuple(_without_individual_levels(cube) for cube in cubes)
            self._visible[key] = cubes
        return cubes


class DataSession:
    def __init__(
        self, factory: SessionFactory, principal: Principal, trail: RequestTrail, *, now: dt.datetime, revision: int | None
    ) -> None:
        self._factory = factory
        self._principal = principal
        self._trail = trail
        self._now = now  # one instant per request: every decision in it sees the same time
        self._revision = revision
        self._noted: list[str] = []  # audit marks noted while computing (replayed with a cached answer)

    @cached_property
    def _grants(self) -> tuple[GrantView, ...]:
        """Read again whenever the metadata revision moved (any grant change moves it), so a
        revoked grant stops at the next request; validity in time is judged per request."""
        return self._factory.grants_for(self._principal, self._revision)

    # -- who am I ---------------------------------------------------------------------------
    def me(self) -> Me:
        principal = self._principal
        self._trail.touched("me", None)
        kommune = self._factory.catalog.kommuner[principal.kommune_kode]
        grants = [
            Grant(data_area=g.area, level=g.level, valid_from=g.valid_from, valid_to=g.valid_to)
            for g in self._grants
            if g.active_at(self._now)
        ]
        return Me(
            login=principal.login,
            kommune=Kommune(kode=kommune.kode, navn=kommune.navn, region=kommune.region),
            roles=sorted(role.value for role in principal.roles),
            grants=grants,
            certificate_fingerprint=principal.cert_fingerprint,
            certificate_expires=principal.cert_not_after,
        )

    # -- Discover ---------------------------------------------------------------------------
    def readable_catalogs(self) -> list[OpenCatalog]:
        """DBSCHEMA_CATALOGS: what the caller may read and what is loaded, nothing else."""
        self._trail.touched("discover", None)
        readable = []
        for ref in self._factory.catalog.databases_for(self._principal.kommune_kode):
            if not self._decide(ref, Action.DISCOVER).allowed:
                continue
            registered = self._factory.registry.get(ref.name)
            if registered is not None:
                self._trail.touched("discover", ref.name)
                readable.append(self._open(ref, registered))
        return readable

    def open_catalog(self, name: str, action: Action = Action.DISCOVER) -> OpenCatalog:
        """The database by name, or the uniform denial; the one gate every read passes."""
        self._trail.touched(action.value, name)
        ref = self._factory.catalog.resolve_database(name)
        decision = self._decide(ref, action)
        if not decision.allowed:
            self._trail.denied(name, decision.reason)
            raise AccessDeniedError(self._principal.login, name)
        registered = self._factory.registry.get(ref.name) if ref is not None else None
        if ref is None or registered is None:
            self._trail.denied(name, "database is in the model but not loaded")
            raise AccessDeniedError(self._principal.login, name)
        return self._open(ref, registered)

    def members(self, catalog: OpenCatalog, cube: str, level: str, first: int, offset: int) -> MemberPage:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_level(model, level))
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = list_members(
                connection, model, level, allow_individual=catalog.allow_individual, limit=first, offset=offset
            )
            total = count_level_members(connection, model, level, allow_individual=catalog.allow_individual)
        return _page(catalog, cube, found, total, offset)

    def member(self, catalog: OpenCatalog, cube: str, unique_name: str) -> Member:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = get_member(connection, model, unique_name, allow_individual=catalog.allow_individual)
        return _member(catalog, cube, found)

    def parent(self, catalog: OpenCatalog, cube: str, unique_name: str) -> Member | None:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = member_parent(connection, model, unique_name, allow_individual=catalog.allow_individual)
        return None if found is None else _member(catalog, cube, found)

    def children(self, catalog: OpenCatalog, cube: str, unique_name: str, first: int, offset: int) -> MemberPage:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = member_children(
                connection, model, unique_name, allow_individual=catalog.allow_individual, limit=first + 1, offset=offset
            )
        has_more = len(found) > first
        found = found[:first]
        return MemberPage(
            items=[_member(catalog, cube, m) for m in found],
            total_count=None,
            offset=offset,
            has_more=has_more,
        )

    def _member_lookup(self, catalog: OpenCatalog, level: LevelRef) -> None:
        """Every Discover member lookup is bounded per request and leaves its database (and any
        person-level hierarchy it touches) in the audit trail."""
        limit = self._factory.settings.max_member_queries
        if not self._trail.count_member_query(limit):
            raise LimitExceededError(f"This request asks for members more than {limit} times; split it up.")
        self._trail.touched("members", catalog.ref.name)
        if any(lv.individual for lv in level.hierarchy.levels):
            self._trail.touched("read_individual", catalog.ref.name)

    def _seconds_left(self) -> float:
        """The query time still allowed: the per-query limit, cut to what is left of the request's."""
        limit = self._factory.settings.query_timeout_seconds
        left = self._trail.seconds_left()
        if left is not None and left <= 0:
            raise QueryTimeoutError("The request ran out of time before this part could run.")
        return limit if left is None else min(limit, left)

    def _timeout(self, connection: Connection) -> AbstractContextManager[None]:
        return query_timeout(connection, self._seconds_left())

    # -- Execute ----------------------------------------------------------------------------
    def execute(self, catalog_name: str, query: CubeQueryInput) -> ExecuteResult:
        """GraphQL's execute. Access first (the uniform denial beats any complaint about the
        query), then the query, with totals when the input asks for them."""
        catalog = self.open_catalog(catalog_name, Action.EXECUTE)
        cube_query = cube_query_from_input(query)
        if query.totals:
            return execute_result(catalog.ref.name, self.query_totals(catalog, cube_query))
        return execute_result(catalog.ref.name, self.query_catalog(catalog, cube_query))

    def query(self, catalog_name: str, cube_query: CubeQuery) -> engine_cellset.CellSet:
        """access → plan → engine, for every door; the cell count goes to the audit trail."""
        return self.query_catalog(self.open_catalog(catalog_name, Action.EXECUTE), cube_query)

    def query_catalog(self, catalog: OpenCatalog, cube_query: CubeQuery) -> engine_cellset.CellSet:
        """:meth:`query` on a catalog this session opened with ``Action.EXECUTE``.

        The cell limit holds for the whole request, not per query: aliases (GraphQL) or the
        several grains of one MDX statement cannot multiply it.
        """
        return self._within_budget(lambda remaining: self._cell_set(catalog, cube_query, cell_limit=remaining))

    def query_totals(self, catalog: OpenCatalog, cube_query: CubeQuery) -> engine_cellset.CellSet:
        """The query with an All member (subtotals, grand total) on every axis level, each total
        its own engine query through :meth:`query_catalog` (``gateway.engine.totals``)."""
        return with_totals(cube_query, catalog.cube(cube_query.cube), lambda grain: self.query_catalog(catalog, grain))

    @property
    def cell_limit(self) -> int:
        """Cells one request may return (a query language door checks its own result against it)."""
        return self._factory.settings.cell_limit

    def remembered(self, catalog: OpenCatalog, key: Hashable, compute: Callable[[], _Answer]) -> _Answer:
        """A door's whole answer (e.g. one MDX statement's result) for this exact database version,
        as the caller may see it, from the result cache or from ``compute``.

        Access was decided already (``open_catalog``). ``compute`` spends the request's cell budget
        through :meth:`query_catalog`; an answer from the cache spends its own cells and leaves the
        same marks on the audit trail (person-level reads), so limit and audit hold either way.
        """
        cache = self._factory.cache
        if cache is None:
            return compute()
        computed = False

        def first_time() -> _Remembered[_Answer]:
            nonlocal computed
            computed = True
            start = len(self._noted)
            answer = compute()
            return _Remembered(answer, tuple(self._noted[start:]))

        entry = catalog.registered
        cache_key = (entry.identity, key, catalog.allow_individual, self._factory.settings.cell_limit)
        found: _Remembered[_Answer] = cache.results.get_or_compute(cache_key, first_time)  # type: ignore[arg-type]
        if not computed:
            for operation in found.operations:
                self._trail.touched(operation, catalog.ref.name)
            self._within_budget(lambda _remaining: found.answer)
        return found.answer

    def _within_budget(self, produce: Callable[[int], _Answer]) -> _Answer:
        """The request's cell budget, the one place it is kept: ``produce(remaining)`` runs under
        the lock, and its cells are refused or spent (and counted for the audit trail)."""
        settings = self._factory.settings
        with self._trail.execute_lock:
            remaining = settings.cell_limit - self._trail.cells
            if remaining <= 0:
                raise LimitExceededError(f"This request already returned the limit of {settings.cell_limit:,} cells.")
            answer = produce(remaining)
            if len(answer.cells) > remaining:
                raise LimitExceededError(
                    f"The query returns {len(answer.cells):,} cells; {remaining:,} remain of this request's limit "
                    f"of {settings.cell_limit:,}."
                )
            self._trail.served_cells(len(answer.cells))
        return answer

    @property
    def version_memo(self) -> VersionMemo | None:
        """Answers about immutable database versions (member lists), shared between requests."""
        cache = self._factory.cache
        return cache.memo if cache is not None else None

    def note_member_read(self, catalog: OpenCatalog, level: LevelRef) -> None:
        """A query language door read a level's members (from the database or the memo):
        person-level hierarchies go on the audit record, as Discover's member lookups do."""
        if any(lv.individual for lv in level.hierarchy.levels):
            self._noted.append("read_individual")
            self._trail.touched("read_individual", catalog.ref.name)

    @contextmanager
    def member_connection(self, catalog: OpenCatalog) -> Iterator[Connection]:
        """A connection for reading dimension members (MDX navigation), under the request's timeout.

        The catalog came from :meth:`open_catalog`, so access was decided; the cube models the
        caller reads members through are the catalog's pruned ones.
        """
        self._trail.touched("members", catalog.ref.name)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            yield connection

    # -- internals --------------------------------------------------------------------------
    def _cell_set(self, catalog: OpenCatalog, query: CubeQuery, *, cell_limit: int) -> engine_cellset.CellSet:
        """From the cache when this exact version answered this exact query before, else the engine.

        Access was decided already (``open_catalog``); the cache only saves the engine's work.
        """
        factory = self._factory
        limits = Limits(cell_limit=cell_limit, timeout_seconds=self._seconds_left())
        entry = catalog.registered
        cache = factory.cache

        def compute() -> engine_cellset.CellSet:
            with factory.registry.connect(entry) as connection:
                return run_query(
                    connection,
                    catalog.cubes,
                    query,
                    limits=limits,
                    allow_individual=catalog.allow_individual,
                    data_as_of=entry.data_as_of,
                    memo=cache.memo if cache else None,
                )

        if cache is None:
            return compute()
        key = (entry.identity, query, catalog.allow_individual, factory.settings.cell_limit)
        return cache.results.get_or_compute(key, compute)

    def _decide(self, ref: DatabaseRef | None, action: Action) -> Decision:
        return decide(self._principal, ref, action, self._grants, now=self._now)

    def _open(self, ref: DatabaseRef, registered: RegisteredDatabase) -> OpenCatalog:
        catalog = self._factory.catalog
        allow_individual = self._decide(ref, Action.READ_INDIVIDUAL).allowed
        return OpenCatalog(
            ref=ref,
            kommune=catalog.kommuner.get(ref.kommune_kode) if ref.kommune_kode else None,
            description=catalog.area_for(ref).description,
            data_as_of=registered.data_as_of,
            cubes=self._factory.visible_cubes(ref, allow_individual),
            allow_individual=allow_individual,
            registered=registered,
        )


def _without_individual_levels(cube: Cube) -> Cube:
    """The cube as someone without an individual grant sees it: no person-level levels at all."""
    dimensions: list[Dimension] = []
    for dimension in cube.dimensions:
        hierarchies: list[Hierarchy] = []
        for hierarchy in dimension.hierarchies:
            levels = tuple(level for level in hierarchy.levels if not level.individual)
            if levels:
                hierarchies.append(dataclasses.replace(hierarchy, levels=levels))
        if hierarchies:
            dimensions.append(dataclasses.replace(dimension, hierarchies=tuple(hierarchies)))
    return dataclasses.replace(cube, dimensions=tuple(dimensions))


def _member(catalog: OpenCatalog, cube: str, member: engine_cellset.Member) -> Member:
    return Member(
        unique_name=member.unique_name,
        caption=member.caption,
        key=member.key,
        level_unique_name=member.level_unique_name,
        depth=member.level_depth,
        _catalog=catalog,
        _cube=cube,
    )


def _page(
    catalog: OpenCatalog, cube: str, found: tuple[engine_cellset.Member, ...], total: int, offset: int
) -> MemberPage:
    return MemberPage(
        items=[_member(catalog, cube, m) for m in found],
        total_count=total,
        offset=offset,
        has_more=offset + len(found) < total,
    )
