"""XMLA sessions: opened with BeginSession, continued with Session, closed with EndSession;
bound to the certificate that opened it, and kept in the metadata store so another gateway
process (a second app over the same store here, as ``serve --workers 2`` runs them) continues it."""

from __future__ import annotations

from tests.gateway.api.api_world import World, audit_events_for
from gateway.app import build_gateway, create_app
from xmla_client import discover, execute

NOT_FOUND = "The session '{id}' was not found: it has ended or expired. Connect again to start a new one."


def test_a_session_is_the_certificates_that_opened_it(world: World) -> None:
    owner, other = world.user("full101"), world.user("some101")
    with world.client(owner) as mine, world.client(other) as theirs:
        session = execute(mine, "", {}, begin=True).session_id
        assert session
        stolen = discover(theirs, "DBSCHEMA_CATALOGS", session=session)
        invented = discover(theirs, "DBSCHEMA_CATALOGS", session="0" * 32)
        assert stolen.fault == NOT_FOUND.format(id=session)
        assert invented.fault == NOT_FOUND.format(id="0" * 32)
        assert stolen.response.content.replace(session.encode(), b"X") == invented.response.content.replace(
            b"0" * 32, b"X")
        assert stolen.rows() == []
        events = audit_events_for(world, stolen.response.headers["x-request-id"])
        assert len(events) == 1 and events[0].event.outcome == "failed" and events[0].event.reason == "SESSION_NOT_FOUND"
        assert execute(theirs, "", {}, end=session).fault == NOT_FOUND.format(id=session)  # cannot end it either
        still = discover(mine, "DBSCHEMA_CATALOGS", session=session)
        assert still.fault is None and still.session_id == session
        assert execute(mine, "", {}, end=session).fault is None
        assert discover(mine, "DBSCHEMA_CATALOGS", session=session).fault == NOT_FOUND.format(id=session)


def test_a_session_continues_in_another_gateway_process(world: World) -> None:
    second = build_gateway(world.settings, store=world.store)
    try:
        with world.serve(create_app(world.settings, gateway=second)) as other_worker:
            user = world.user("full101")
            with world.client(user) as first, world.client(user, url=other_worker.url) as other:
                session = execute(first, "", {}, begin=True).session_id
                answer = execute(other, "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]",
                                 {"Catalog": "FLIS Ukraine-101"}, session=session)
                assert answer.fault is None and answer.session_id == session
                assert execute(other, "", {}, end=session).fault is None
                assert discover(first, "DBSCHEMA_CATALOGS", session=session).fault == NOT_FOUND.format(id=session)
    finally:
        second.registry.close()


def test_a_header_marked_must_understand_that_is_not_understood_is_refused(world: World) -> None:
    from xmla_client import SOAP, post

    body = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Header>'
        '<Secret soap:mustUnderstand="1" xmlns="urn:example"/></soap:Header><soap:Body>'
        '<Discover xmlns="urn:schemas-microsoft-com:xml-analysis"><RequestType>DBSCHEMA_CATALOGS</RequestType>'
        "<Restrictions/><Properties/></Discover></soap:Body></soap:Envelope>"
    )
    with world.client(world.user("full101")) as client:
        answer = post(client, body)
    assert answer.response.status_code == 400
    assert answer.root.findtext("{*}Body/{*}Fault/faultcode") == "soap:MustUnderstand"
    assert "Secret" in (answer.fault or "")
