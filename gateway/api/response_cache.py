"""Whole GraphQL answers to repeated requests, reused only after access is decided again.

BI tools and dashboards send the same few documents again and again. Once the engine's result
cache holds the cell set, what is left of such a request is graphql-core completing every field
of the answer (two per cell for ``cells { ordinal value }``: ~60 ms of CPU for 590 cells under
load) and serialising it. This cache keeps the serialised answer instead.

What an answer depends on, and how each is checked on every hit:

- who asks: the key holds the principal (user id, login, kommune, certificate fingerprint); the
  identity step has resolved it for this very request (revocation, CRL, validity), so a cached
  answer is never reached by a refused certificate;
- the access decision: every database the answer read is opened again through
  :meth:`gateway.api.session.DataSession.open_catalog` (the one gate: grants of this revision,
  judged at this instant), and must come out allowed with the same disclosure (exact or
  protected) as when the answer was made; otherwise the request runs in full, and the full path
  gives the uniform denial;
- the data: the database version (``RegisteredDatabase.identity``) must be the one the answer was
  read from; a load swaps the version and the old answer is never served for the new one;
- the question: the exact document text, variables and operation name.

Only answers to ``execute`` alone are kept (no ``me``, Discover or refresh state, which read the
store or depend on the clock), and only complete, error-free ones. A hit replays the audit marks
the answer left (operations, databases, cells), so its audit event says what the miss's did.
Bounded in bytes (keys and answers), least recently used first out. Used from the event loop
only, so it needs no lock.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from gateway.access import Action, Disclosure
from gateway.api.context import RequestTrail
from gateway.api.request import GraphQLRequest
from gateway.api.session import DataSession, OpenCatalog
from gateway.principal import Principal

# the audit operations an answer may have left to be kept: execute, and the mark it leaves when
# it reads a person-level hierarchy
CACHEABLE_OPERATIONS = frozenset({"execute", "read_individual"})
_ENTRY_OVERHEAD = 256  # bytes charged per entry besides its key's and body's own


@dataclass(frozen=True, slots=True)
class Opened:
    """What opening one database came to when the answer was made."""

    name: str
    version: Hashable  # RegisteredDatabase.identity
    disclosure: Disclosure


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes  # the serialised JSON answer, sent as is
    opened: tuple[Opened, ...]
    operations: tuple[str, ...]  # the trail's marks, in order
    databases: tuple[str, ...]
    cells: int
    weight: int


class ResponseCache:
    """LRU of serialised answers, bounded by ``max_bytes`` (0 turns it off)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("the response cache bound must not be negative")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(principal: Principal, request: GraphQLRequest) -> tuple[Hashable, int] | None:
        """The request's key and its size in bytes, or None when it cannot be keyed exactly."""
        variables = ""
        if request.variables:
            try:
                variables = json.dumps(request.variables, sort_keys=True, ensure_ascii=False, allow_nan=True)
            except (TypeError, ValueError, RecursionError):
                return None
        identity = (principal.user_id, principal.login, principal.kommune_kode, principal.cert_fingerprint)
        key = (identity, request.query, variables, request.operation_name)
        size = len(request.query) * 4 + len(variables) * 4 + len(request.operation_name or "") * 4  # UTF-8 at worst
        return key, size

    def answer(self, key: Hashable, session: DataSession, trail: RequestTrail) -> bytes | None:
        """The kept answer when access, disclosure and data are still what they were, with its
        audit marks replayed onto ``trail``; None sends the request down the full path, with
        ``trail`` untouched (the checks ran on a scratch trail)."""
        entry = self._entries.get(key)
        if entry is None or not self._still_valid(entry, session):
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        for operation in entry.operations:
            trail.touched(operation, None)
        for database in entry.databases:
            trail.touched(entry.operations[0], database)
        trail.served_cells(entry.cells)
        return entry.body

    def keep(self, key: Hashable, key_size: int, body: bytes, session: DataSession, trail: RequestTrail) -> bool:
        """Keep a served answer when it is safe to replay (see the module docstring); True if kept."""
        if not self.enabled or trail.denial_reason is not None or not trail.operations:
            return False
        if not set(trail.operations) <= CACHEABLE_OPERATIONS or trail.operations[0] != "execute":
            return False
        opened = _opened(session.opened)
        if opened is None or {o.name for o in opened} != set(trail.databases):
            return False
        weight = len(body) + key_size + _ENTRY_OVERHEAD
        if weight > self.max_bytes // 4:  # one huge answer must not flush everything else
            return False
        entry = CachedAnswer(body, opened, tuple(trail.operations), tuple(trail.databases), trail.cells, weight)
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= previous.weight
        self._entries[key] = entry
        self._bytes += weight
        while self._bytes > self.max_bytes:
            _key, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.weight
        return True

    @staticmethod
    def _still_valid(entry: CachedAnswer, session: DataSession) -> bool:
        if not session.can_decide_in_memory():
            return False  # the grants of this revision are not held yet: the full path reads them
        for opened in entry.opened:
            try:
                catalog = session.open_catalog(opened.name, Action.EXECUTE)
            except Exception:  # noqa: BLE001 - denied or failing: the full path answers and audits it
                return False
            if catalog.registered.identity != opened.version or catalog.disclosure is not opened.disclosure:
                return False
        return True


def _opened(catalogs: Sequence[OpenCatalog]) -> tuple[Opened, ...] | None:
    """One entry per database, or None when the request saw one database in two states."""
    found: dict[str, Opened] = {}
    for catalog in catalogs:
        opened = Opened(catalog.ref.name, catalog.registered.identity, catalog.disclosure)
        if found.setdefault(opened.name, opened) != opened:
            return None
    return tuple(found.values()) if found else None
