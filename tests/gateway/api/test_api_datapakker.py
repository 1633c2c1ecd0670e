"""The download door over real mTLS: datapakker listed and fetched with the same access
function and audit trail as queries, conditional requests, uniform denial, query exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pyarrow.parquet as pq
import pytest
from api_world import World, audit_events_for, gql_data

KL = "FLIS KL Databank"
PLACEHOLDER = "\u0000PACKAGE\u0000"
UKRAINE_QUERY = {
    "cube": "Ukraine Statistik",
    "measures": ["[Measures].[Indrejste]", "[Measures].[Udrejste]"],
    "rows": [{"level": "[Tid].[Tid].[Måned]"}, {"level": "[Køn].[Køn].[Køn]"}],
}


def _one_event(world: World, response: Any) -> Any:
    events = audit_events_for(world, response.headers["x-request-id"])
    assert len(events) == 1, events
    return events[0].event


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), data[:10]  # UTF-8 with BOM: Danish Excel reads æøå right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def _package_csv(content: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        (name,) = archive.namelist()
        return name, archive.read(name)


def test_the_list_holds_only_packages_of_databases_the_caller_may_read(world: World) -> None:
    with world.client(world.user("full101")) as client:
        response = client.get("/datapakker")
    assert response.status_code == 200, response.text
    (offer,) = response.json()["packages"]
    assert offer["id"] == "kl_databank" and offer["number"] == "844" and offer["database"] == KL
    entry = world.gateway.registry.get(KL)
    assert entry is not None and offer["dataAsOf"] == entry.data_as_of.isoformat()
    built = entry.built_at.strftime("%Y%m%d%H%M")  # type: ignore[union-attr]
    assert offer["file"] == f"DSA-101-844-{entry.data_as_of:%Y%m%d}-{built}.zip"
    event = _one_event(world, response)
    assert event.outcome == "served" and event.operation.startswith("datapakker.list")

    with world.client(world.user("some101")) as client:  # no KL Databank grant
        response = client.get("/datapakker")
    assert response.status_code == 200 and response.json() == {"packages": []}
    assert _one_event(world, response).outcome == "served"


def test_a_download_is_the_whole_databank_in_the_published_layout(world: World) -> None:
    with world.client(world.user("full147")) as client:
        response = client.get("/datapakker/kl_databank")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    entry = world.gateway.registry.get(KL)
    assert entry is not None
    stem = f"DSA-147-844-{entry.data_as_of:%Y%m%d}-{entry.built_at:%Y%m%d%H%M}"
    assert response.headers["content-disposition"] == f'attachment; filename="{stem}.zip"'
    name, data = _package_csv(response.content)
    assert name == f"{stem}.csv"
    assert data.startswith("\ufeffID;Periode;Udtræksdato;Kommunenum;Kommunenavn;Resultat;Tæller;Nævner\r\n".encode())
    rows = _csv_rows(data)[1:]
    expected = world.oracle(KL, "SELECT count(*) FROM noegletal_vaerdier WHERE coalesce(resultat, taeller, naevner) IS NOT NULL")
    assert len(rows) == expected
    # one row against the database file itself, past the gateway
    figure, period, extracted, kommune, navn, result, numerator, denominator = rows[0]
    with world.gateway.registry.connect(KL) as connection:
        import sqlalchemy as sa

        truth = connection.execute(
            sa.text("SELECT v.resultat, v.taeller, v.naevner, v.udtraeksdato, k.navn FROM noegletal_vaerdier v "
                    "JOIN dim_kommune k ON k.kode = v.kommune WHERE noegletal_id = :i AND periode = :p AND kommune = :k"),
            {"i": figure, "p": period, "k": kommune.zfill(3)},
        ).one()
    assert (result, numerator, denominator) == tuple(str(int(v)) for v in truth[:3])
    assert extracted == f"{truth[3][8:10]}-{truth[3][5:7]}-{truth[3][:4]}" and navn == truth[4]
    # published order: per figure and period, the lowest result first
    first_block = [r for r in rows if r[0] == figure and r[1] == period]
    assert [float(r[5]) for r in first_block] == sorted(float(r[5]) for r in first_block)
    event = _one_event(world, response)
    assert event.outcome == "served" and event.database == KL and event.cells == len(rows) * 3
    assert event.operation.startswith("datapakker.download") and "execute" in event.operation


def test_conditional_requests_fetch_only_what_changed(world: World) -> None:
    with world.client(world.user("full101")) as client:
        first = client.get("/datapakker/844")  # the package number works as well as its id
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert client.get("/datapakker/kl_databank").content == first.content  # one version, same bytes
        again = client.get("/datapakker/kl_databank", headers={"if-none-match": etag})
        since = client.get("/datapakker/kl_databank", headers={"if-modified-since": modified})
        stale = client.get("/datapakker/kl_databank", headers={"if-none-match": '"another-version"'})
        older = client.get("/datapakker/kl_databank", headers={"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert since.status_code == 304
    assert stale.status_code == 200 and stale.content == first.content
    assert older.status_code == 200
    for response in (again, since):
        event = _one_event(world, response)
        assert event.outcome == "served" and event.reason == "not modified" and event.cells == 0


def test_a_package_one_may_not_read_looks_exactly_like_one_that_does_not_exist(world: World) -> None:
    user = world.user("some101")  # no KL Databank grant
    asked = ("kl_databank", "844", "no_such_package", "borger", "KL Databank", "x" * 300)
    with world.client(user) as client:
        answers = {name: client.get(f"/datapakker/{name}") for name in asked}
    shapes = set()
    for name, response in answers.items():
        escaped = json.dumps(name[:100], ensure_ascii=False)[1:-1]
        assert escaped in response.text
        shapes.add((response.status_code, response.headers["content-type"], response.text.replace(escaped, PLACEHOLDER)))
    assert len(shapes) == 1, shapes
    status, _, body = shapes.pop()
    assert status == 404 and "ACCESS_DENIED" in body
    for name, response in answers.items():
        event = _one_event(world, response)
        assert event.outcome == "denied" and event.reason
    assert "no active grant" in _one_event(world, answers["kl_databank"]).reason
    assert "no such data package" in _one_event(world, answers["no_such_package"]).reason


def test_other_methods_are_refused_and_audited(world: World) -> None:
    with world.client(world.user("full101")) as client:
        response = client.post("/datapakker/kl_databank", content=b"{}")
        exported = client.get("/export")
    for answer in (response, exported):
        assert answer.status_code == 405
        assert _one_event(world, answer).outcome == "failed"


def _export(client: Any, catalog: str, query: object, **kw: Any) -> Any:
    return client.post("/export", content=json.dumps({"catalog": catalog, "query": query}),
                       headers={"content-type": "application/json", **kw.pop("headers", {})}, **kw)


def test_a_query_exports_as_csv_with_the_values_of_its_rowset(world: World) -> None:
    user = world.user("full101")
    with world.client(user) as client:
        response = _export(client, "FLIS Ukraine-101", UKRAINE_QUERY, headers={"accept": "text/csv"})
        data = gql_data(client, "query($q: CubeQueryInput!) { execute(catalog: \"FLIS Ukraine-101\", query: $q)"
                                " { rowset { columns { name } rows } } }", {"q": UKRAINE_QUERY})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="FLIS Ukraine-101 Ukraine Statistik.csv"'
    table = _csv_rows(response.content)
    rowset = data["execute"]["rowset"]
    assert table[0] == [c["name"] for c in rowset["columns"]]
    as_text = [[str(v) if isinstance(v, str) else ("" if v is None else str(int(v)) if float(v).is_integer()
                else str(v).replace(".", ",")) for v in row] for row in rowset["rows"]]
    assert table[1:] == as_text
    event = _one_event(world, response)
    assert event.outcome == "served" and event.database == "FLIS Ukraine-101" and event.cells == len(as_text) * 2


def test_a_query_exports_as_parquet(world: World) -> None:
    with world.client(world.user("full101")) as client:
        response = _export(client, "FLIS Ukraine-101", UKRAINE_QUERY, params={"format": "parquet"})
        csv_response = _export(client, "FLIS Ukraine-101", UKRAINE_QUERY)  # CSV when nothing else is asked for
    assert response.status_code == 200, response.text
    table = pq.read_table(io.BytesIO(response.content))
    rows = _csv_rows(csv_response.content)
    assert table.column_names == rows[0]
    assert table.num_rows == len(rows) - 1
    first = table.slice(0, 1).to_pylist()[0]
    assert [first[name] for name in rows[0][:2]] == rows[1][:2]
    assert first[rows[0][2]] == float(rows[1][2])


def test_an_export_of_a_database_one_may_not_read_is_the_uniform_denial(world: World) -> None:
    user = world.user("some101")
    with world.client(user) as client:
        denied = _export(client, "FLIS Borger-101", {"cube": "Borger", "measures": []})
        missing = _export(client, "FLIS Nothing", {"cube": "Borger", "measures": []})
    assert denied.status_code == missing.status_code == 404
    assert denied.text.replace("FLIS Borger-101", PLACEHOLDER) == missing.text.replace("FLIS Nothing", PLACEHOLDER)
    assert _one_event(world, denied).outcome == _one_event(world, missing).outcome == "denied"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "MALFORMED_JSON"),
        (b'{"query": {}}', 400, "MALFORMED_REQUEST"),
        (b'{"catalog": "FLIS Ukraine-101", "query": {"cube": "Ukraine Statistik", "measures": "x"}}', 422, "INVALID_QUERY"),
        (b'{"catalog": "FLIS Ukraine-101", "query": {"cube": "Ukraine Statistik", "measures": [], "bogus": 1}}', 422, "INVALID_QUERY"),
        (b'{"catalog": "FLIS Ukraine-101", "query": {"cube": "Nope", "measures": []}}', 422, "NOT_FOUND"),
    ],
)
def test_a_bad_export_request_is_a_clear_error_and_audited(world: World, body: bytes, status: int, code: str) -> None:
    with world.client(world.user("full101")) as client:
        response = client.post("/export", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert _one_event(world, response).outcome == "failed"


def test_a_revoked_grant_or_certificate_stops_downloads_on_the_next_request(world: World) -> None:
    from api_world import OPERATOR

    from admin.revocation import revoke_certificate

    user = world.new_user("101", (("kl_databank", "aggregated"),))
    (grant,) = world.store.list_grants(OPERATOR, login=user.login)
    with world.client(user) as client:
        first = client.get("/datapakker/kl_databank")
        assert first.status_code == 200
        world.store.revoke_grant(OPERATOR, grant.id)
        # the same conditional request a scheduled client sends: the access check runs before any 304
        after_grant = client.get("/datapakker/kl_databank", headers={"if-none-match": first.headers["etag"]})
        assert after_grant.status_code == 404 and "ACCESS_DENIED" in after_grant.text
        assert client.get("/datapakker").json() == {"packages": []}

    other = world.new_user("101", (("kl_databank", "aggregated"),))
    with world.client(other) as client:  # one kept-alive connection
        assert client.get("/datapakker/kl_databank").status_code == 200
        revoke_certificate(world.store, world.settings.ca_dir, OPERATOR, other.serial, "key-compromise")
        refused = client.get("/datapakker/kl_databank")
    assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_export_never_reads_another_kommunes_database(world: World) -> None:
    user = world.user("full101")
    query = {"cube": "Ukraine Statistik", "measures": ["[Measures].[Indrejste]"]}
    with world.client(user) as client:
        own = _export(client, "FLIS Ukraine-101", query)
        other = _export(client, "FLIS Ukraine-147", query)
    assert own.status_code == 200
    assert other.status_code == 404 and "ACCESS_DENIED" in other.text and "Indrejste" not in other.text
    event = _one_event(world, other)
    assert event.outcome == "denied" and "belongs to kommune 147" in event.reason and event.cells == 0


EXECUTE_DOC = "query($q: CubeQueryInput!) { execute(catalog: \"FLIS Ukraine-101\", query: $q) { rowset { rows } } }"


def test_accept_text_csv_on_graphql_answers_an_execute_request_as_a_file(world: World) -> None:
    with world.client(world.user("full101")) as client:
        as_file = client.post("/graphql", content=json.dumps({"query": EXECUTE_DOC, "variables": {"q": UKRAINE_QUERY}}),
                              headers={"content-type": "application/json", "accept": "text/csv"})
        exported = _export(client, "FLIS Ukraine-101", UKRAINE_QUERY)
        parquet = client.get("/graphql", params={"query": EXECUTE_DOC, "variables": json.dumps({"q": UKRAINE_QUERY})},
                             headers={"accept": "application/vnd.apache.parquet"})
        as_json = client.post("/graphql", content=json.dumps({"query": EXECUTE_DOC, "variables": {"q": UKRAINE_QUERY}}),
                              headers={"content-type": "application/json", "accept": "application/json, text/csv;q=0.5"})
    assert as_file.status_code == 200, as_file.text
    assert as_file.headers["content-type"].startswith("text/csv")
    assert as_file.content == exported.content
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == len(_csv_rows(exported.content)) - 1
    assert as_json.headers["content-type"] == "application/json" and as_json.json()["data"]["execute"]["rowset"]["rows"]
    event = _one_event(world, as_file)
    assert event.outcome == "served" and event.operation.startswith("export") and event.database == "FLIS Ukraine-101"
    assert "execute(catalog:" in event.query and "Måned" in event.query


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        ("{ me { login } execute(catalog: \"FLIS Ukraine-101\", query: {cube: \"Ukraine Statistik\", measures: []}) { catalog } }",
         406, "NOT_ACCEPTABLE"),
        ("{ execute(catalog: ", 400, "GRAPHQL_PARSE_FAILED"),
        ("{ execute(catalog: \"FLIS Ukraine-101\") { catalog } }", 400, "GRAPHQL_VALIDATION_FAILED"),
        ("{ execute(catalog: \"FLIS Ukraine-147\", query: {cube: \"Ukraine Statistik\", measures: []}) { catalog } }",
         404, "ACCESS_DENIED"),
    ],
)
def test_a_file_request_on_graphql_that_cannot_be_a_file_is_a_clear_error(world: World, document: str, status: int,
                                                                          code: str) -> None:
    with world.client(world.user("full101")) as client:
        response = client.post("/graphql", content=json.dumps({"query": document}),
                               headers={"content-type": "application/json", "accept": "text/csv"})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert _one_event(world, response).outcome == ("denied" if code == "ACCESS_DENIED" else "failed")


def test_when_the_audit_write_fails_no_package_or_export_leaves(world: World) -> None:
    import dataclasses
    from collections.abc import Sequence

    from gateway.app import create_app
    from gateway.audit import AuditEvent, AuditLog, AuditWriteError, ChainLink

    class BrokenAuditLog(AuditLog):
        def record(self, event: AuditEvent) -> int:
            raise AuditWriteError("audit event could not be written: disk full")

        def record_many(self, events: Sequence[AuditEvent]) -> list[ChainLink]:
            raise AuditWriteError("audit events could not be written: disk full")

    gateway = dataclasses.replace(world.gateway, audit=BrokenAuditLog(world.store.database, world.store.seal))
    app = create_app(world.settings, gateway=gateway)
    with world.serve(app) as server, world.client(world.user("full101"), url=server.url) as client:
        answers = [
            client.get("/datapakker"),
            client.get("/datapakker/kl_databank"),
            _export(client, "FLIS Ukraine-101", UKRAINE_QUERY),
            client.post("/graphql", content=json.dumps({"query": EXECUTE_DOC, "variables": {"q": UKRAINE_QUERY}}),
                        headers={"content-type": "application/json", "accept": "text/csv"}),
        ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "etag" not in response.headers and "content-disposition" not in response.headers
