"""The XMLA door over HTTP: where it answers, what it refuses, and that no request can make the
XML parser read files, reach the network or expand entities. Never a 500 for a client mistake."""

from __future__ import annotations

import httpx
import pytest

from tests.gateway.api.api_world import World, audit_events_for
from xmla_client import SOAP, XMLA, discover, discover_body, post

CATALOGS = discover_body("DBSCHEMA_CATALOGS")


def test_plain_xml_is_negotiated_even_when_binary_is_offered(world: World) -> None:
    with world.client(world.user("full101")) as client:
        answer = discover(client, "DBSCHEMA_CATALOGS", caps=True)
    assert answer.fault is None
    assert answer.response.headers["x-transport-caps-negotiation-flags"] == "1,0,0,0,0"
    assert answer.response.headers["content-type"] == "text/xml; charset=utf-8"
    assert answer.response.content.startswith(b"<?xml")


def test_the_bare_server_url_takes_xmla_and_nothing_else(world: World) -> None:
    with world.client(world.user("full101")) as client:
        answer = post(client, CATALOGS, path="/")
        assert answer.fault is None and answer.rows()
        assert client.post("/", content=b"{}", headers={"content-type": "application/json"}).status_code == 404
        assert client.get("/").status_code == 404


def test_client_mistakes_are_4xx_faults_and_audited(world: World) -> None:
    with world.client(world.user("full101")) as client:
        cases = {
            "not xml": client.post("/xmla", content=b"hello", headers={"content-type": "text/xml"}),
            "not soap": client.post("/xmla", content=b"<a/>", headers={"content-type": "text/xml"}),
            "no body": client.post("/xmla", content=b"", headers={"content-type": "text/xml"}),
            "binary": client.post("/xmla", content=b"\x00\x01", headers={"content-type": "application/sx"}),
            "get": client.get("/xmla"),
            "too large": client.post("/xmla", content=b"<" * (world.settings.max_body_bytes + 1),
                                     headers={"content-type": "text/xml"}),
            "two calls": client.post("/xmla", content=CATALOGS.replace(
                "</soap:Body>", f'<Discover xmlns="{XMLA}"/></soap:Body>').encode(), headers={"content-type": "text/xml"}),
        }
    expected = {"not xml": 400, "not soap": 400, "no body": 400, "binary": 415, "get": 405, "too large": 413,
                "two calls": 400}
    for name, response in cases.items():
        assert response.status_code == expected[name], (name, response.text[:300])
        assert b"<soap:Fault>" in response.content and b"Traceback" not in response.content, name
        events = audit_events_for(world, response.headers["x-request-id"])
        assert len(events) == 1 and events[0].event.outcome == "failed", name


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:9/">]>',
        '<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    ],
    ids=["file", "network", "expansion"],
)
def test_entities_are_never_resolved(world: World, doctype: str) -> None:
    body = (
        f'<?xml version="1.0"?>{doctype}<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<Discover xmlns="{XMLA}"><RequestType>&x;DBSCHEMA_CATALOGS</RequestType></Discover>'
        "</soap:Body></soap:Envelope>"
    )
    with world.client(world.user("full101")) as client:
        response = client.post("/xmla", content=body.encode(), headers={"content-type": "text/xml"})
    assert response.status_code in (200, 400)
    assert b"root:" not in response.content and b"aaaaaaaaaaaaaaaaaaaa" not in response.content
    assert b"<soap:Fault>" in response.content


def test_a_refused_certificate_is_a_soap_fault_at_the_xmla_door_and_json_elsewhere(world: World) -> None:
    """Excel and Power BI show a SOAP fault's text; the identity step's 401 speaks each door's protocol."""
    import ssl

    from lxml import etree

    from gateway.identity.middleware import NO_CERTIFICATE_MESSAGE

    context = ssl.create_default_context(cafile=str(world.ca_file))  # trusts the server, presents nothing
    xml = {"content-type": "text/xml"}
    with httpx.Client(base_url=world.url, verify=context) as client:
        answers = {
            "/xmla": client.post("/xmla", content=CATALOGS.encode(), headers=xml),
            "/ (XMLA)": client.post("/", content=CATALOGS.encode(), headers=xml),
            "/graphql": client.post("/graphql", content=b'{"query": "{ me { login } }"}',
                                    headers={"content-type": "application/json"}),
            "/ (not XMLA)": client.post("/", content=b"{}", headers={"content-type": "application/json"}),
        }
    for door in ("/xmla", "/ (XMLA)"):
        response = answers[door]
        assert response.status_code == 401 and response.headers["content-type"] == "text/xml; charset=utf-8", door
        fault = etree.fromstring(response.content).find(f".//{{{SOAP}}}Fault")
        assert fault.findtext("faultcode") == "soap:Client" and fault.findtext("faultstring") == NO_CERTIFICATE_MESSAGE
        assert fault.find("detail/Error").get("Description") == NO_CERTIFICATE_MESSAGE
    for door in ("/graphql", "/ (not XMLA)"):
        assert answers[door].status_code == 401 and answers[door].json()["errors"][0]["message"] == NO_CERTIFICATE_MESSAGE
    for response in answers.values():  # each refusal is on record, whichever protocol it was told in
        (record,) = [r for r in world.gateway.audit.query(outcome="refused") if r.event.request_id == response.headers["x-request-id"]]
        assert record.event.operation == "identity" and record.event.reason == "no_certificate"
