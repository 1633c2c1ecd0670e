"""The portal and the CLI are two doors over one service layer: the same action through either
leaves the same store state and writes the same audit events (but for who acted)."""

from __future__ import annotations

import getpass
import re

from click.testing import CliRunner

from gateway.cli import main
from gateway.principal import Role
from tests.admin.portal.portal_world import detail_id, make_person
from tests.gateway.api.api_world import OPERATOR

CLI_ACTOR = f"cli:{getpass.getuser()}"


def _cli(world, *args: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(world.settings.home), *args], env={"DATAADGANG_METADATA_URL": ""})
    assert result.exit_code == 0, result.output
    return result.output


def _events_since(world, seq: int, actor: str, target: str) -> list[tuple]:
    """The admin events after ``seq`` by ``actor``, with actor, target login and ids made neutral."""
    found = []
    for record in world.store.audit_log().query():
        event = record.event
        if record.seq <= seq or event.login != actor:
            continue
        text = (event.query or "").replace(target, "<target>")
        text = re.sub(r"\b(granted|approved grant|revoked grant) \d+", r"\1 <id>", text)
        text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.+]+", "<time>", text).replace(actor, "<actor>").replace(OPERATOR.login, "<granter>")
        found.append((event.operation, event.kommune_kode, event.outcome, event.database, text))
    return found


def _last_seq(world) -> int:
    return world.store.audit_log().query()[-1].seq


def _grant_state(world, login: str) -> list[tuple]:
    now = world.store.now()
    return [
        # an individual grant's end is start + the maximum: compare the length, not the instant
        (g.area, g.level, g.valid_to - g.valid_from if g.level == "individual" else g.valid_to, g.purpose, g.status(now), g.revoked_at is not None, g.approved_at is not None)
        for g in world.store.list_grants(OPERATOR, login=login)
    ]


def test_user_and_grant_actions_leave_the_same_state_and_events(world, officer, second_officer, browser_for) -> None:
    browser = browser_for(officer)
    approver = browser_for(second_officer)
    portal_login, cli_login = "komb-fli-prod\\parity_portal", "komb-fli-prod\\parity_cli"

    start = _last_seq(world)
    created = browser.submit("/admin/brugere", {"login": portal_login, "name": "P", "kommune": "101", "roles": ["user", "auditor"]})
    user_id = detail_id(created)
    browser.submit(f"/admin/brugere/{user_id}/status", {"status": "suspended"})
    browser.submit(f"/admin/brugere/{user_id}/status", {"status": "active"})
    browser.submit(f"/admin/brugere/{user_id}/tildelinger", {"area": "ukraine", "level": "aggregated", "purpose": "Rapport", "valid_to": "2099-01-01"})
    grant = world.store.list_grants(OPERATOR, login=portal_login)[-1]
    browser.submit(f"/admin/tildelinger/{grant.id}/tilbagekald")
    portal_events = _events_since(world, start, officer.login, portal_login)

    start = _last_seq(world)
    _cli(world, "user", "add", "--kommune", "101", "--login", cli_login, "--name", "P", "--role", "user", "--role", "auditor")
    _cli(world, "user", "suspend", cli_login)
    _cli(world, "user", "activate", cli_login)
    _cli(world, "grant", "add", cli_login, "ukraine", "--purpose", "Rapport", "--to", "2099-01-01")
    cli_grant = world.store.list_grants(OPERATOR, login=cli_login)[-1]
    _cli(world, "grant", "revoke", str(cli_grant.id))
    cli_events = _events_since(world, start, CLI_ACTOR, cli_login)

    assert portal_events == cli_events
    assert [e[0] for e in portal_events] == [
        "admin.user.add", "admin.user.suspend", "admin.user.activate", "admin.grant.add", "admin.grant.revoke"
    ]
    portal_user, cli_user = world.store.get_user(OPERATOR, portal_login), world.store.get_user(OPERATOR, cli_login)
    assert (portal_user.roles, portal_user.status, portal_user.kommune_kode, portal_user.display_name) == (
        cli_user.roles, cli_user.status, cli_user.kommune_kode, cli_user.display_name
    ) == (frozenset({Role.USER, Role.AUDITOR}), "active", "101", "P")
    assert _grant_state(world, portal_login) == _grant_state(world, cli_login)

    # four-eyes approval of an individual grant made by someone else, through either door
    for login in (portal_login, cli_login):
        world.store.add_grant(OPERATOR, login=login, area="voksenhandicap", valid_areas={"voksenhandicap"}, purpose="VH", level="individual")
    start = _last_seq(world)
    approver.submit(f"/admin/tildelinger/{world.store.list_grants(OPERATOR, login=portal_login)[-1].id}/godkend")
    portal_events = _events_since(world, start, second_officer.login, portal_login)
    start = _last_seq(world)
    _cli(world, "grant", "approve", str(world.store.list_grants(OPERATOR, login=cli_login)[-1].id))
    cli_events = _events_since(world, start, CLI_ACTOR, cli_login)
    assert portal_events == cli_events and [e[0] for e in cli_events] == ["admin.grant.approve"]
    assert _grant_state(world, portal_login) == _grant_state(world, cli_login)


def test_explain_access_says_the_same_through_both_doors(world, officer, browser_for) -> None:
    person = make_person(world, "101", Role.USER, name="explain")
    world.store.add_grant(OPERATOR, login=person.login, area="ukraine", valid_areas={"ukraine"}, purpose="x")
    page = browser_for(officer).get(f"/admin/brugere/{person.view.id}/adgang", params={"database": "FLIS Ukraine-101"}).text
    output = _cli(world, "access", "explain", person.login, "FLIS Ukraine-101")
    read, individual = output.strip().splitlines()
    assert read.startswith("read: allowed: grant #") and individual.startswith("individual level: denied: ")
    for line in (read, individual):
        reason = line.split(": ", 2)[2].replace("'", "&#39;")
        assert reason in page
