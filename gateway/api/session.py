"""The service layer: the only way from a door (GraphQL, XMLA, downloads) to a cube database.

A :class:`DataSession` belongs to one request. Every database it hands out went through
:func:`gateway.access.decide` first, and every denial, whether the database is forbidden,
unknown or not loaded, raises the same :class:`AccessDeniedError`. The decision is bound once
into an :class:`OpenCatalog`: the cubes *as the caller may see them* (Mondrian's role-filtered
schema reader). Without exact access, person-level levels are cut out of that view and every
cube keeps its disclosure rule; with it, the levels stay and the rule is dropped. The engine
only ever reads the view, so that view is the one enforcement of both rules.

It returns domain objects (:class:`OpenCatalog`, engine members and cell sets, :class:`Caller`,
:class:`MemberPage`); each door translates them into its own protocol.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Hashable, Iterator, Sized
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection

from gateway.access import Action, Decision, Disclosure, GrantView, decide
from gateway.api.context import RequestTrail
from gateway.engine.cache import EngineCache, VersionMemo
from gateway.engine.cellset import CellSet, Member
from gateway.engine.execute import Limits, query_timeout, run_query
from gateway.engine.members import count_level_members, get_member, list_members, member_children, member_parent
from gateway.engine.query import CubeQuery
from gateway.engine.resolve import LevelRef, find_cube, resolve_level, resolve_member
from gateway.engine.totals import with_totals
from gateway.errors import AccessDeniedError, LimitExceededError, QueryTimeoutError
from gateway.model import Catalog, DatabaseRef
from gateway.model import Kommune as KommuneModel
from gateway.model.types import Cube
from gateway.model.view import exact_view, protected_view
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
    """A database the caller may read, with the cubes as the caller may see them (the view)."""

    ref: DatabaseRef
    kommune: KommuneModel | None
    description: str
    data_as_of: dt.date | None
    cubes: tuple[Cube, ...]
    disclosure: Disclosure  # EXACT: person-level levels and exact values; PROTECTED: neither
    registered: RegisteredDatabase  # the version this request reads

    def cube(self, name: str) -> Cube:
        return find_cube(list(self.cubes), name)


@dataclass(frozen=True)
class Caller:
    """``me``: the caller as the gateway sees them, with the grants active right now."""

    login: str
    kommune: KommuneModel
    roles: tuple[str, ...]
    grants: tuple[GrantView, ...]
    certificate_fingerprint: str
    certificate_expires: dt.datetime


@dataclass(frozen=True)
class MemberPage:
    """One page of a level's members (``total_count`` None on children pages)."""

    members: tuple[Member, ...]
    total_count: int | None
    offset: int
    has_more: bool


@dataclass(frozen=True)
class RefreshState:
    """The version serving and the daily refresh's last attempt at it (``dataadgang refresh``)."""

    version: int
    updated_at: dt.datetime | None
    last_attempt: dt.datetime | None
    failed: bool  # newer source files were refused; the older version keeps serving


@dataclass(frozen=True)
class SessionFactory:
    """Makes one :class:`DataSession` per request from the gateway's long-lived parts.

    ``disclosure_key`` keys the noise of disclosure control; every worker of a deployment must
    share it (``gateway.key_file``), or repeating a query on another worker would give a
    different answer. The default, a fresh random key, is for tests.
    """

    settings: Settings
    catalog: Catalog
    registry: DatabaseRegistry
    store: MetadataStore
    cache: EngineCache | None = None  # results and member lookups per immutable database version
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    disclosure_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _views: dict[tuple[str, bool, Disclosure], tuple[Cube, ...]] = field(default_factory=dict, repr=False)
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

    def grants_in_memory(self, principal: Principal, revision: int | None) -> bool:
        """True when :meth:`grants_for` would answer without reading the store."""
        cached = self._grants.get(principal.user_id)
        return revision is not None and cached is not None and cached[0] == revision

    def view(self, ref: DatabaseRef, decision: Decision) -> tuple[Cube, ...]:
        """The database's cubes as the decision lets the caller see them.

        Exact: as modelled, without disclosure rules. Protected: no person-level levels at all,
        and each cube keeps its disclosure rule, bound to this deployment's key. The model never
        changes while the process runs, so each variant is made once.
        """
        key = (ref.area, ref.is_benchmark, decision.disclosure)
        cubes = self._views.get(key)
        if cubes is None:
            cubes = self.catalog.cubes_for(ref)
            if decision.person_level:
                cubes = tuple(exact_view(cube) for cube in cubes)
            else:
                cubes = tuple(protected_view(cube, self.disclosure_key) for cube in cubes)
            self._views[key] = cubes
        return cubes


class DataSession:
    """One request's service calls; every door (GraphQL, XMLA, downloads) uses only these.

    Public API: :meth:`me`, :meth:`readable_catalogs`, :meth:`open_catalog`, :meth:`query`
    (and :meth:`query_catalog` for a catalog already opened), :meth:`members`,
    :meth:`member`, :meth:`parent`, :meth:`children`.
    """

    def __init__(
        self, factory: SessionFactory, principal: Principal, trail: RequestTrail, *, now: dt.datetime, revision: int | None
    ) -> None:
        self._factory = factory
        self._principal = principal
        self._trail = trail
        self._now = now  # one instant per request: every decision in it sees the same time
        self._revision = revision
        self._noted: list[str] = []  # audit marks noted while computing (replayed with a cached answer)
        self._opened: list[OpenCatalog] = []  # what open_catalog let through, in order

    @property
    def opened(self) -> tuple[OpenCatalog, ...]:
        """Every database :meth:`open_catalog` let this request read, with the version and view it
        got: what a cached whole answer must find unchanged (``gateway.api.response_cache``)."""
        return tuple(self._opened)

    @cached_property
    def _grants(self) -> tuple[GrantView, ...]:
        """Read again whenever the metadata revision moved (any grant change moves it), so a
        revoked grant stops at the next request; validity in time is judged per request."""
        return self._factory.grants_for(self._principal, self._revision)

    # -- who am I ---------------------------------------------------------------------------
    def me(self) -> Caller:
        principal = self._principal
        self._trail.touched("me", None)
        return Caller(
            login=principal.login,
            kommune=self._factory.catalog.kommuner[principal.kommune_kode],
            roles=tuple(sorted(role.value for role in principal.roles)),
            grants=tuple(g for g in self._grants if g.active_at(self._now)),
            certificate_fingerprint=principal.cert_fingerprint,
            certificate_expires=principal.cert_not_after,
        )

    # -- Discover ---------------------------------------------------------------------------
    def readable_catalogs(self) -> list[OpenCatalog]:
        """DBSCHEMA_CATALOGS: what the caller may read and what is loaded, nothing else."""
        self._trail.touched("discover", None)
        readable = []
        for ref in self._factory.catalog.databases_for(self._principal.kommune_kode):
            decision = self._decide(ref, Action.DISCOVER)
            if not decision.allowed:
                continue
            registered = self._factory.registry.get(ref.name)
            if registered is not None:
                self._trail.touched("discover", ref.name)
                readable.append(self._open(ref, registered, decision))
        return readable

    def open_catalog(self, name: str, action: Action = Action.DISCOVER) -> OpenCatalog:
        """The database by name, or the uniform denial; the one gate every read passes.

        The audit trail files the request under the canonical name whenever the name resolves
        (however the client spelled it), else under the text as sent; the client's denial
        repeats only what the client sent, so it reveals nothing either way.
        """
        ref = self._factory.catalog.resolve_database(name)
        audited_name = ref.name if ref is not None else name
        self._trail.touched(action.value, audited_name)
        decision = self._decide(ref, action)
        if not decision.allowed:
            self._trail.denied(audited_name, decision.reason)
            raise AccessDeniedError(self._principal.login, name)
        registered = self._factory.registry.get(ref.name) if ref is not None else None
        if ref is None or registered is None:
            self._trail.denied(audited_name, "database is in the model but not loaded")
            raise AccessDeniedError(self._principal.login, name)
        opened = self._open(ref, registered, decision)
        self._opened.append(opened)
        return opened

    def refresh_state(self, catalog: OpenCatalog) -> RefreshState:
        """The catalog's version and the daily refresh's last attempt at it (``dataadgang refresh``)."""
        registered = catalog.registered
        state = self._factory.store.refresh_log().inputs([catalog.ref.name]).get(catalog.ref.name)
        built = registered.built_at
        if built is not None and built.tzinfo is None:
            built = built.replace(tzinfo=dt.UTC)  # registries written before built_at carried a zone
        failed = state is not None and state.last_status == "failed" and (built is None or state.last_attempt_at >= built)
        return RefreshState(
            version=registered.version,
            updated_at=registered.built_at,
            last_attempt=state.last_attempt_at if state else None,
            failed=failed,
        )

    def members(self, catalog: OpenCatalog, cube: str, level: str, first: int, offset: int) -> MemberPage:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_level(model, level))
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = list_members(connection, model, level, limit=first, offset=offset)
            total = count_level_members(connection, model, level)
        return MemberPage(found, total, offset, has_more=offset + len(found) < total)

    def member(self, catalog: OpenCatalog, cube: str, unique_name: str) -> Member:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            return get_member(connection, model, unique_name)

    def parent(self, catalog: OpenCatalog, cube: str, unique_name: str) -> Member | None:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            return member_parent(connection, model, unique_name)

    def children(self, catalog: OpenCatalog, cube: str, unique_name: str, first: int, offset: int) -> MemberPage:
        model = catalog.cube(cube)
        self._member_lookup(catalog, resolve_member(model, unique_name).level)
        with self._factory.registry.connect(catalog.registered) as connection, self._timeout(connection):
            found = member_children(connection, model, unique_name, limit=first + 1, offset=offset)
        return MemberPage(found[:first], None, offset, has_more=len(found) > first)

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
    def query(self, catalog_name: str, cube_query: CubeQuery) -> CellSet:
        """access → plan → engine, for every door; the cell count goes to the audit trail."""
        return self.query_catalog(self.open_catalog(catalog_name, Action.EXECUTE), cube_query)

    def query_catalog(self, catalog: OpenCatalog, cube_query: CubeQuery) -> CellSet:
        """:meth:`query` on a catalog this session opened with ``Action.EXECUTE``.

        The cell limit holds for the whole request, not per query: aliases (GraphQL) or the
        several grains of one MDX statement cannot multiply it.
        """
        return self._within_budget(lambda remaining: self._cell_set(catalog, cube_query, cell_limit=remaining))

    def query_totals(self, catalog: OpenCatalog, cube_query: CubeQuery) -> CellSet:
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

        found: _Remembered[_Answer] = cache.results.get_or_compute(
            self._result_key(catalog, key), first_time  # type: ignore[arg-type]
        )
        if not computed:
            for operation in found.operations:
                self._trail.touched(operation, catalog.ref.name)
            self._within_budget(lambda _remaining: found.answer)
        return found.answer

    def _within_budget(self, produce: Callable[[int], _Answer]) -> _Answer:
        """The request's cell budget, the one place it is kept: ``produce(remaining)`` runs under
        the lock, and its cells are refused or spent (and counted for the audit trail)."""
        with self._trail.execute_lock:
            remaining = self._remaining_cells()
            answer = produce(remaining)
            self._spend_cells(answer, remaining)
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

    def can_decide_in_memory(self) -> bool:
        """True when access can be decided without the store: the grants of the revision the
        identity step checked for this request are already held (revocation is as immediate)."""
        return self._factory.grants_in_memory(self._principal, self._revision)

    def cached_query(self, catalog: OpenCatalog, cube_query: CubeQuery) -> CellSet | None:
        """:meth:`query_catalog`'s answer when the result cache already holds it, else None.

        Never blocks (no database, no waiting for another resolver of the request), so a door may
        call it on the event loop and save the thread hop; on None it calls :meth:`query_catalog`.
        """
        cache = self._factory.cache
        if cache is None or not self._trail.execute_lock.acquire(blocking=False):
            return None
        try:
            remaining = self._remaining_cells()
            cellset = cache.results.peek(self._result_key(catalog, cube_query))
            if cellset is None:
                return None
            self._spend_cells(cellset, remaining)
            return cellset
        finally:
            self._trail.execute_lock.release()

    def _remaining_cells(self) -> int:
        settings = self._factory.settings
        remaining = settings.cell_limit - self._trail.cells
        if remaining <= 0:
            raise LimitExceededError(f"This request already returned the limit of {settings.cell_limit:,} cells.")
        return remaining

    def _spend_cells(self, answer: _HasCells, remaining: int) -> None:
        if len(answer.cells) > remaining:
            raise LimitExceededError(
                f"The query returns {len(answer.cells):,} cells; {remaining:,} remain of this request's limit "
                f"of {self._factory.settings.cell_limit:,}."
            )
        self._trail.served_cells(len(answer.cells))

    def _result_key(self, catalog: OpenCatalog, query: Hashable) -> tuple[object, ...]:
        """The view is part of the key, so an exact answer never reaches a protected caller, nor
        a protected one an exact caller."""
        return (catalog.registered.identity, query, catalog.disclosure, self._factory.settings.cell_limit)

    # -- internals --------------------------------------------------------------------------
    def _cell_set(self, catalog: OpenCatalog, query: CubeQuery, *, cell_limit: int) -> CellSet:
        """From the cache when this exact version answered this exact query for this view, else the engine.

        Access was decided already (``open_catalog``); the cache only saves the engine's work.
        """
        factory = self._factory
        limits = Limits(cell_limit=cell_limit, timeout_seconds=self._seconds_left())
        entry = catalog.registered
        cache = factory.cache

        def compute() -> CellSet:
            with factory.registry.connect(entry) as connection:
                return run_query(
                    connection,
                    catalog.cubes,
                    query,
                    limits=limits,
                    data_as_of=entry.data_as_of,
                    memo=cache.memo if cache else None,
                )

        if cache is None:
            return compute()
        return cache.results.get_or_compute(self._result_key(catalog, query), compute)

    def _decide(self, ref: DatabaseRef | None, action: Action) -> Decision:
        return decide(self._principal, ref, action, self._grants, now=self._now)

    def _open(self, ref: DatabaseRef, registered: RegisteredDatabase, decision: Decision) -> OpenCatalog:
        catalog = self._factory.catalog
        return OpenCatalog(
            ref=ref,
            kommune=catalog.kommuner.get(ref.kommune_kode) if ref.kommune_kode else None,
            description=catalog.area_for(ref).description,
            data_as_of=registered.data_as_of,
            cubes=self._factory.view(ref, decision),
            disclosure=decision.disclosure,
            registered=registered,
        )

