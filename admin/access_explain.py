"""Explain access: for a user and a database, which rule allows or denies it, and why.

The answer comes from the gateway's own decision function (``gateway.access.decide``) with the
user's grants as stored now, so the explanation cannot drift from what the gateway does. Before
it, the identity step's rules (active user, onboarded kommune, a valid certificate) are checked
the way the identity step checks them. Only the user's own kommune's databases and the
benchmarks can be asked about; any other name, existing or not, is the same 'no such database'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.access import Action, Decision, decide
from gateway.model import Catalog, DatabaseRef
from gateway.principal import Principal
from gateway.registry import DatabaseRegistry
from gateway.store.errors import RecordNotFoundError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor, UserView


@dataclass(frozen=True, slots=True)
class AccessExplanation:
    user: UserView
    database: DatabaseRef
    read: Decision  # Discover/Execute: may the user read the database at all
    individual: Decision  # may they see person-level levels in it


def databases_for_user(catalog: Catalog, user: UserView) -> list[DatabaseRef]:
    """What may be asked about for ``user``: their kommune's databases and the benchmarks."""
    return catalog.databases_for(user.kommune_kode)


def explain_access(
    store: MetadataStore,
    catalog: Catalog,
    actor: Actor,
    *,
    user_id: int,
    database: str,
    registry: DatabaseRegistry | None = None,
    now: dt.datetime | None = None,
) -> AccessExplanation:
    at = store.now() if now is None else now
    user = store.get_user_by_id(actor, user_id)  # another kommune's user: 'no such user'
    ref = catalog.resolve_database(database)
    if ref is None or ref.kommune_kode not in (None, user.kommune_kode):
        raise RecordNotFoundError("no such database among the user's kommune's and the benchmark databases")
    blocked = _identity_rule(store, user)
    if blocked is not None:
        return AccessExplanation(user, ref, blocked, blocked)
    if registry is not None and registry.get(ref.name) is None:
        missing = Decision(False, f"database '{ref.name}' is not loaded on this server")
        return AccessExplanation(user, ref, missing, missing)
    principal = _principal(store, actor, user, at)
    if principal is None:
        none = Decision(False, "the user has no valid, unrevoked certificate")
        return AccessExplanation(user, ref, none, none)
    decision = decide(principal, ref, Action.EXECUTE, store.grants_for(principal), now=at)
    return AccessExplanation(user, ref, decision, decision if decision.person_level else _why_not_exact(decision, ref))


def _why_not_exact(decision: Decision, ref: DatabaseRef) -> Decision:
    """Person-level detail and exact numbers: the same decision's level and disclosure policy, said in words."""
    if not decision.allowed:
        return decision
    if ref.kommune_kode is None:
        return Decision(False, "a benchmark database holds other kommuner's citizens: disclosure control applies "
                               "to every user, whatever the grant")
    return Decision(False, f"{decision.reason}: person-level levels are hidden and small counts "
                           "protected (disclosure control)")


def _identity_rule(store: MetadataStore, user: UserView) -> Decision | None:
    if user.status != "active":
        return Decision(False, f"the user is {user.status}: every request is refused at the identity step")
    if not store.kommune_onboarded(user.kommune_kode):
        return Decision(False, f"kommune {user.kommune_kode} is not onboarded: its users are refused")
    return None


def _principal(store: MetadataStore, actor: Actor, user: UserView, at: dt.datetime) -> Principal | None:
    """The principal the gateway would resolve from the user's newest valid certificate."""
    valid = [c for c in store.list_certificates(actor, user.login) if c.status(at) == "valid"]
    if not valid:
        return None
    newest = max(valid, key=lambda c: (c.not_after, c.id))
    return store.principal_for(newest.fingerprint, now=at)  # as the identity step resolves it
