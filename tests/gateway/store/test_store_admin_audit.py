"""Every change to kommuner, users, grants and certificates is on the audit trail, written in the
change's own transaction: both or neither."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.store import Actor, MetadataStore
from gateway.store.errors import ValidationError

OPERATOR = Actor.operator("drift")
AREAS = frozenset({"ukraine"})


def _operations(store: MetadataStore) -> list[tuple[str, str | None, str | None]]:
    return [(r.event.operation, r.event.login, r.event.kommune_kode) for r in store.audit_log().query()]


def test_each_administrative_change_writes_one_audit_event_naming_who(store: MetadataStore) -> None:
    store.onboard_kommune(OPERATOR, "101")
    store.add_user(OPERATOR, kommune_kode="101", login="komb-fli-prod\\kl_pri")
    grant = store.add_grant(OPERATOR, login="komb-fli-prod\\kl_pri", area="ukraine", valid_areas=AREAS, purpose="rapport")
    store.suspend_user(OPERATOR, "komb-fli-prod\\kl_pri")
    store.activate_user(OPERATOR, "komb-fli-prod\\kl_pri")
    store.revoke_grant(OPERATOR, grant.id)
    assert _operations(store) == [
        ("admin.kommune.onboard", "drift", "101"),
        ("admin.user.add", "drift", "101"),
        ("admin.grant.add", "drift", "101"),
        ("admin.user.suspend", "drift", "101"),
        ("admin.user.activate", "drift", "101"),
        ("admin.grant.revoke", "drift", "101"),
    ]
    added = store.audit_log().query()[2].event
    assert added.query is not None and "ukraine" in added.query and "rapport" in added.query
    assert store.audit_log().verify().ok


def test_a_refused_change_leaves_no_audit_event(store: MetadataStore) -> None:
    store.onboard_kommune(OPERATOR, "101")
    before = len(store.audit_log().query())
    with pytest.raises(ValidationError):
        store.add_user(OPERATOR, kommune_kode="101", login="not a login")
    assert len(store.audit_log().query()) == before


def test_when_the_audit_event_cannot_be_written_the_change_is_not_written_either(store: MetadataStore) -> None:
    store.onboard_kommune(OPERATOR, "101")
    with store.database.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE audit_events"))
    with pytest.raises(Exception):  # noqa: B017 - any database error; the point is what is left
        store.add_user(OPERATOR, kommune_kode="101", login="komb-fli-prod\\kl_pri")
    with store.database.engine.connect() as connection:
        users = connection.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
    assert users == 0
