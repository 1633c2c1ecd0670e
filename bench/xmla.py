"""XMLA/MDX vs GraphQL vs DuckDB: the same month × age group × sex query through each path.

Run: ``.venv/bin/python -m bench.xmla [--scale 20] [--repeat 60] [--clients 8] [--requests 2000]``

A throwaway home (one kommune's Ukraine database, a CA, a user) as ``bench.gateway`` makes
it; ``dataadgang serve`` in its own process, once with the result cache off (every request
runs the engine and DuckDB: "uncached") and once with it on ("cached"). Each path is timed
with one kept-alive mTLS client, the two doors interleaved so both see the same machine
state; the floor is the engine's SQL for the query run straight on DuckDB. Then 8 kept-alive
mTLS clients (curl's parallel mode) load the XMLA door. Prints medians and the ratios; the
target is XMLA ≤ 1.15× GraphQL.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.gateway import Setup, _percentile, _ssl_context, curl_load, prepare, start_server

CATALOG = "FLIS Ukraine-101"
GRAPHQL = (
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"],'
    ' columns: [{level: "[Køn].[Køn]"}], rows: [{level: "[Tid].[Tid].[Måned]"}, {level: "[Aldersgruppe].[Aldersgruppe]"}]})'
    " { cellSet { axes { tuples { members { uniqueName caption } } } cells { ordinal value formattedValue } } } }"
)
MDX = (
    "SELECT CrossJoin([Køn].[Køn].[Køn].Members, {[Measures].[Indrejste]}) ON COLUMNS, "
    "CrossJoin([Tid].[Tid].[Måned].Members, [Aldersgruppe].[Aldersgruppe].[Aldersgruppe].Members) ON ROWS "
    "FROM [Ukraine Statistik] CELL PROPERTIES VALUE, FORMATTED_VALUE"
)
SOAP = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<Execute xmlns="urn:schemas-microsoft-com:xml-analysis"><Command><Statement>{statement}</Statement></Command>'
    "<Properties><PropertyList><Catalog>{catalog}</Catalog><Format>Multidimensional</Format></PropertyList>"
    "</Properties></Execute></soap:Body></soap:Envelope>"
)
MAX_REPEAT = 1000


def _xmla_body() -> bytes:
    from xml.sax.saxutils import escape

    return SOAP.format(statement=escape(MDX), catalog=CATALOG).encode()


def _time_doors(setup: Setup, repeat: int) -> dict[str, list[float]]:
    """Sequential requests on one kept-alive connection per door, interleaved."""
    base = f"https://127.0.0.1:{setup.port}"
    timings: dict[str, list[float]] = {"xmla": [], "graphql": []}
    body = _xmla_body()
    with httpx.Client(base_url=base, verify=_ssl_context(setup), timeout=60) as client:
        def graphql() -> None:
            response = client.post("/graphql", json={"query": GRAPHQL})
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"GraphQL failed: {response.text[:300]}")

        def xmla() -> None:
            response = client.post("/xmla", content=body, headers={"content-type": "text/xml"})
            if response.status_code != 200 or b"<soap:Fault>" in response.content:
                raise SystemExit(f"XMLA failed: {response.text[:300]}")

        for run in (graphql, xmla, graphql, xmla):  # warm: connections, member memo, caches
            run()
        for _ in range(repeat):
            for name, run in (("graphql", graphql), ("xmla", xmla)):
                started = time.perf_counter()
                run()
                timings[name].append(time.perf_counter() - started)
    return timings


def _direct(setup: Setup, repeat: int) -> list[float]:
    """The engine's SQL for the query, straight on DuckDB."""
    from gateway.engine.compile import compile_plan
    from gateway.engine.plan import plan_query
    from gateway.engine.query import CubeQuery, LevelItem
    from gateway.model import load_catalog
    from gateway.registry import DatabaseRegistry
    from gateway.settings import Settings

    settings = Settings.from_env({"DATAADGANG_HOME": str(setup.home)})
    registry = DatabaseRegistry.from_settings(settings)
    catalog = load_catalog(settings.schema_dir)
    ref = catalog.resolve_database(CATALOG)
    if ref is None:
        raise SystemExit(f"{CATALOG} was not built")
    query = CubeQuery("Ukraine Statistik", ("[Measures].[Indrejste]",), columns=(LevelItem("[Køn].[Køn]"),),
                      rows=(LevelItem("[Tid].[Tid].[Måned]"), LevelItem("[Aldersgruppe].[Aldersgruppe]")))
    latencies = []
    with registry.connect(ref.name) as connection:
        statement, _ = compile_plan(plan_query(connection, catalog.cubes_for(ref), query, cell_limit=10**6))
        sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
        raw = connection.connection.driver_connection
        raw.execute(sql).fetchall()
        for _ in range(repeat):
            started = time.perf_counter()
            raw.execute(sql).fetchall()
            latencies.append(time.perf_counter() - started)
    registry.close()
    return latencies


def _load(setup: Setup, clients: int, requests: int) -> tuple[float, float, float, int]:
    """requests/s, p50 and p99 (ms) and failures for ``clients`` kept-alive curl connections on /xmla."""
    body = setup.home / "bench-xmla.xml"
    body.write_bytes(_xmla_body())
    latencies, errors, elapsed = curl_load(setup, f"https://127.0.0.1:{setup.port}/xmla", body, "text/xml", clients, requests)
    return len(latencies) / elapsed, _percentile(latencies, 50) * 1000, _percentile(latencies, 99) * 1000, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=20.0, help="Ukraine data volume (1.0 = demo size)")
    parser.add_argument("--repeat", type=int, default=60, help="timed requests per door and cache setting")
    parser.add_argument("--clients", type=int, default=8, help="kept-alive mTLS clients for requests/s")
    parser.add_argument("--requests", type=int, default=2000, help="requests in the load run (bounded)")
    args = parser.parse_args()
    repeat = max(5, min(args.repeat, MAX_REPEAT))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="dataadgang-bench-xmla-") as tmp:
        setup = prepare(Path(tmp), args.scale)
        direct = statistics.median(_direct(setup, repeat)) * 1000
        for label, cache in (("uncached", False), ("cached", True)):
            server = start_server(setup, 1, result_cache=cache)
            try:
                timings = _time_doors(setup, repeat)
                if cache and shutil.which("curl"):
                    rps, p50, p99, failures = _load(setup, args.clients, min(args.requests, 50_000))
                    results["load"] = {"rps": round(rps, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                                       "failures": failures}
            finally:
                server.terminate()
                server.wait(timeout=10)
            results[label] = {name: round(statistics.median(values) * 1000, 3) for name, values in timings.items()}
    results["direct_duckdb_ms"] = {"median": round(direct, 3)}
    print(json.dumps(results, indent=1))
    print()
    for label in ("uncached", "cached"):
        xmla, graphql = results[label]["xmla"], results[label]["graphql"]
        ratio = xmla / graphql
        verdict = "met" if ratio <= 1.15 else "NOT met"
        print(f"{label:9} XMLA/MDX {xmla:7.2f} ms   GraphQL {graphql:7.2f} ms   DuckDB {direct:6.2f} ms   "
              f"XMLA/GraphQL {ratio:.2f}x (target <= 1.15x: {verdict})   XMLA/DuckDB {xmla / direct:.1f}x")
    if "load" in results:
        load = results["load"]
        print(f"XMLA under {args.clients} kept-alive mTLS clients (curl, cached): {load['rps']:,.0f} requests/s, "
              f"p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, {int(load['failures'])} failed")
    else:
        print("curl not installed: the requests/s run was skipped")


if __name__ == "__main__":
    main()
