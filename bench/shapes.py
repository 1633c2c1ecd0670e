"""Six query shapes, four ways each, interleaved: where the gateway stands against the best SQL.

Run: ``.venv/bin/python -m bench.shapes [--scale 720] [--rounds 3] [--requests 2000] [--workers 2]``

For each shape (small; the 590-cell month query; a distinct count; a running total; a ratio; a
benchmark-database query) and in every round, in turn:

- **best SQL**: hand-written SQL for the question, straight on the DuckDB file (the floor);
- **engine SQL**: the statement the engine compiles for it, straight on the same file;
- **gateway uncached**: ``dataadgang serve`` with the result cache off, 8 kept-alive mTLS
  clients (curl's parallel mode), so every request plans, runs and protects;
- **gateway cached**: a second server with the result cache on (``--workers`` processes);
- **CPU per query**: the best SQL's and, in a child process, ``DataSession.query`` uncached (the
  service layer and the engine below the door, as a server runs them: the result cache off, the
  member memo on) in process CPU time, which other load on the machine hardly moves; their
  ratio is the part of issue 10's uncached target below the door.

A throwaway home holds a Ukraine database for kommune 101 at ``--scale`` (720 ≈ 5.8 million
events), Borger and Voksne Handicappede for 101 and the Borger benchmark at demo size, and a
user with an individual grant on all three areas (exact values in the own kommune; the
benchmark is protected whatever the grant). Prints per shape the medians, the ratios and the
requests/s and p50/p99, each next to the target of issue 10. Loopback only; the load generator
shares the machine's cores with the servers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.engine import _timed
from bench.gateway import Setup, _free_port, _percentile, curl_command, curl_load, curl_warm, server_cpu_seconds

UKRAINE = "FLIS Ukraine-101"
BORGER = "FLIS Borger-101"
VH = "FLIS Voksne Handicappede-101"
BORGER_BENCHMARK = "FLIS Borger Benchmark"


@dataclass(frozen=True)
class Shape:
    name: str
    catalog: str
    cube: str
    measures: tuple[str, ...]
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    best_sql: str  # hand-written: the fact table's own keys, joins only for attributes it lacks

    def cube_query(self) -> object:
        """The engine's query for the shape, as the GraphQL door builds it (non-empty)."""
        from gateway.engine.query import CubeQuery, LevelItem

        return CubeQuery(self.cube, tuple(f"[Measures].[{m}]" for m in self.measures),
                         columns=tuple(LevelItem(lv) for lv in self.columns),
                         rows=tuple(LevelItem(lv) for lv in self.rows), non_empty=True)

    def graphql(self) -> str:
        measures = ", ".join(json.dumps(f"[Measures].[{m}]", ensure_ascii=False) for m in self.measures)

        def axis(levels: tuple[str, ...]) -> str:
            return "[" + ", ".join("{level: " + json.dumps(lv, ensure_ascii=False) + "}" for lv in levels) + "]"

        return (
            f'{{ execute(catalog: {json.dumps(self.catalog, ensure_ascii=False)}, query: {{cube: '
            f'{json.dumps(self.cube, ensure_ascii=False)}, measures: [{measures}], rows: {axis(self.rows)}, '
            f"columns: {axis(self.columns)}}}) {{ cellSet {{ cells {{ ordinal value }} }} }} }}"
        )


SHAPES = (
    Shape("small", UKRAINE, "Ukraine Statistik", ("Indrejste", "Udrejste"), ("[Køn].[Køn]",), (),
          "SELECT koen, sum(indrejst), sum(udrejst) FROM haendelser GROUP BY koen"),
    Shape("month (590 cells)", UKRAINE, "Ukraine Statistik",
          ("Indrejste", "Udrejste", "Tilflyttede", "Fraflyttede", "Nettotilvækst"), ("[Tid].[Måned]",), ("[Køn].[Køn]",),
          "SELECT t.maaned, h.koen, sum(indrejst), sum(udrejst), sum(tilflyttet), sum(fraflyttet), "
          "sum(indrejst) - sum(udrejst) + sum(tilflyttet) - sum(fraflyttet) "
          "FROM haendelser h JOIN dim_tid t ON t.dato = h.dato GROUP BY t.maaned, h.koen"),
    Shape("distinct count", VH, "Voksne Handicappede", ("Unikke modtagere",), ("[Tid].[År]",), (),
          "SELECT t.aar, count(DISTINCT f.person_noegle) FROM forloeb_maaned f "
          "JOIN dim_tid t ON t.maaned = f.maaned GROUP BY t.aar"),
    Shape("running total", UKRAINE, "Ukraine Statistik", ("Akkumuleret tilvækst",), ("[Tid].[Måned]",), (),
          "WITH m AS (SELECT t.maaned, sum(indrejst - udrejst + tilflyttet - fraflyttet) AS v "
          "FROM haendelser h JOIN dim_tid t ON t.dato = h.dato GROUP BY t.maaned) "
          "SELECT maaned, sum(v) OVER (ORDER BY maaned) FROM m"),
    Shape("ratio", BORGER, "Borger", ("Antal fødte pr. 10.000 indbyggere",), ("[Tid].[År]",), ("[Aldersgruppe].[Aldersgruppe]",),
          "WITH d AS (SELECT aar, sum(dage) AS dage FROM dim_tid GROUP BY aar) "
          "SELECT t.aar, b.aldersgruppe, CAST(sum(b.foedte) AS DOUBLE) / nullif(sum(b.persondage) / max(d.dage), 0) * 10000 "
          "FROM befolkning b JOIN dim_tid t ON t.maaned = b.maaned JOIN d ON d.aar = t.aar GROUP BY t.aar, b.aldersgruppe"),
    Shape("benchmark", BORGER_BENCHMARK, "Borger Benchmark", ("Befolkningstal",), ("[Kommune].[Kommune]",), ("[Tid].[År]",),
          "WITH d AS (SELECT aar, sum(dage) AS dage FROM dim_tid GROUP BY aar) "
          "SELECT b.kommune, t.aar, CAST(sum(b.persondage) AS DOUBLE) / max(d.dage) "
          "FROM befolkning b JOIN dim_tid t ON t.maaned = b.maaned JOIN d ON d.aar = t.aar GROUP BY b.kommune, t.aar"),
)

# issue 10's targets
TARGET_UNCACHED = 1.1  # gateway uncached / best SQL, every shape
TARGET_AGGREGATED = 0.5  # ... where an aggregation answers
TARGET_CACHED_RPS = {"small": 2000, "month (590 cells)": 1000}
TARGET_CACHED_P99_MS = 30.0


@dataclass
class Measured:
    best: list[float] = field(default_factory=list)  # seconds per statement
    engine: list[float] = field(default_factory=list)
    alone: list[float] = field(default_factory=list)  # uncached gateway p50, one client after another
    uncached: list[tuple[float, float, float]] = field(default_factory=list)  # (requests/s, p50 s, p99 s)
    cached: list[tuple[float, float, float]] = field(default_factory=list)
    cached_cpu: list[float] = field(default_factory=list)  # server CPU seconds per cached request
    best_cpu: list[float] = field(default_factory=list)  # CPU seconds per best SQL statement
    session_cpu: list[float] = field(default_factory=list)  # CPU seconds per DataSession.query, uncached
    cells: int = 0
    aggregation: str | None = None


def prepare(home: Path, scale: float) -> Setup:
    from admin.certificates import issue_user_certificate
    from gateway.data.demo import build_demo_data
    from gateway.demo import DEMO_OPERATOR, prepare_pki
    from gateway.model import load_catalog
    from gateway.settings import Settings
    from gateway.store.store import MetadataStore
    from gateway.store.views import Actor

    settings = Settings.from_env({"DATAADGANG_HOME": str(home)})
    build_demo_data(settings, kommuner=["101"], areas=("ukraine",), progress=False, scale=scale)
    build_demo_data(settings, kommuner=["101"], areas=("borger", "voksenhandicap"), progress=False)
    ca, _cert, _key = prepare_pki(settings)
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        store.onboard_kommune(DEMO_OPERATOR, "101")
        login = "komb-fli-prod\\bench"
        store.add_user(DEMO_OPERATOR, kommune_kode="101", login=login)
        areas = frozenset(load_catalog(settings.schema_dir).areas)
        approver = Actor.operator("bench-second-officer")  # four-eyes: individual grants need a second person
        for area in ("ukraine", "borger", "voksenhandicap"):
            grant = store.add_grant(DEMO_OPERATOR, login=login, area=area, valid_areas=areas, purpose="benchmark",
                                    level="individual")
            if grant.awaiting_approval:
                store.approve_grant(approver, grant.id)
        issued = issue_user_certificate(store, ca, DEMO_OPERATOR, login, home / "bench-user", bundle_name="bench")
    return Setup(home=home, ca_file=settings.ca_dir / "ca.crt.pem", cert=issued.bundle.certificate_path,
                 key=issued.bundle.key_path, password=issued.password, port=_free_port())


def start(setup: Setup, port: int, workers: int, *, cached: bool) -> subprocess.Popen[bytes]:
    from bench.gateway import start_server

    return start_server(Setup(setup.home, setup.ca_file, setup.cert, setup.key, setup.password, port), workers,
                        result_cache=cached)


def load(
    setup: Setup, port: int, query: str, clients: int, requests: int, *, server: int | None = None, warm: bool = False
) -> tuple[float, float, float, int, float]:
    """``requests`` POSTs over ``clients`` kept-alive mTLS connections (curl --parallel): requests/s,
    p50 and p99 seconds, the answer's cells, and the CPU seconds per request of the process
    ``server`` and its workers (NaN without it). ``warm`` first sends ``clients`` × 8 unmeasured
    requests, so each worker of a cached server has answered the question once."""
    body = setup.home / "bench-shape-body.json"
    body.write_text(json.dumps({"query": query}, ensure_ascii=False), encoding="utf-8")
    url = f"https://127.0.0.1:{port}/graphql"
    check = subprocess.run([*curl_command(setup, body, "application/json", 1), url], capture_output=True, text=True,
                           timeout=300)
    answer = json.loads(check.stdout or "{}")
    if check.returncode != 0 or "errors" in answer:
        raise SystemExit(f"the gateway refused the shape (curl {check.returncode}): {answer or check.stderr}")
    cells = len(answer["data"]["execute"]["cellSet"]["cells"])
    if warm:  # every worker's caches hold the answer before the clock starts: the cached state is measured
        curl_warm(setup, url, body, "application/json", clients, clients * 8)
    cpu = server_cpu_seconds(server) if server is not None else float("nan")
    latencies, errors, elapsed = curl_load(setup, url, body, "application/json", clients, requests)
    if server is not None:
        cpu = server_cpu_seconds(server) - cpu
    if errors:
        raise SystemExit(f"a request failed: {errors[0]}")
    return len(latencies) / elapsed, _percentile(latencies, 50), _percentile(latencies, 99), cells, cpu / len(latencies)


def direct(setup: Setup) -> dict[str, tuple[Callable[[], None], Callable[[], None], str | None]]:
    """Per shape: run the best SQL, run the engine's own SQL (both on the raw DuckDB connection),
    and the aggregation the planner chose."""
    import duckdb
    import sqlalchemy as sa

    from gateway.engine.compile import compile_plan
    from gateway.engine.disclosure import Protection
    from gateway.engine.plan import plan_query
    from gateway.engine.query import CubeQuery, LevelItem
    from gateway.model import load_catalog
    from gateway.model.view import exact_view, protected_view
    from gateway.registry import DatabaseRegistry
    from gateway.settings import Settings

    settings = Settings.from_env({"DATAADGANG_HOME": str(setup.home)})
    registry = DatabaseRegistry.from_settings(settings)
    catalog = load_catalog(settings.schema_dir)
    runs = {}
    compiled = []
    for shape in SHAPES:
        ref = catalog.resolve_database(shape.catalog)
        entry = registry.get(shape.catalog)
        if ref is None or entry is None:
            raise SystemExit(f"{shape.catalog} was not built")
        cubes = catalog.cubes_for(ref)
        # as the gateway serves the bench user: exact in the own kommune, protected in a benchmark
        view = tuple(protected_view(c, b"bench") if ref.is_benchmark else exact_view(c) for c in cubes)
        query = CubeQuery(shape.cube, tuple(f"[Measures].[{m}]" for m in shape.measures),
                          columns=tuple(LevelItem(lv) for lv in shape.columns), rows=tuple(LevelItem(lv) for lv in shape.rows))
        with registry.connect(entry) as connection:
            plan = plan_query(connection, view, query, cell_limit=10**6)
            protection = Protection.for_plan(plan)
            statement, _ = compile_plan(plan if protection is None else protection.widened)
            engine_sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
        compiled.append((shape, str(sa.make_url(entry.url).database), engine_sql,
                         None if plan.aggregation is None else plan.aggregation.table_name))
    registry.close()  # DuckDB opens a file once per process: the registry lets go of it first
    connections: dict[str, duckdb.DuckDBPyConnection] = {}
    for shape, path, engine_sql, aggregation in compiled:
        if path not in connections:
            connections[path] = duckdb.connect(path, read_only=True)
        con = connections[path]
        runs[shape.name] = (
            (lambda con=con, sql=shape.best_sql: con.execute(sql).fetchall()),
            (lambda con=con, sql=engine_sql: con.execute(sql).fetchall()),
            aggregation,
        )
    return runs


def _cpu(run: Callable[[], object], repeat: int) -> list[float]:
    """CPU seconds of the whole process per run (DuckDB's threads included)."""
    run()  # warm
    out = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        out.append(time.process_time() - started)
    return out


def in_process(home: Path, repeat: int) -> dict[str, list[float]]:
    """CPU seconds per ``DataSession.query`` for every shape, as the uncached server runs it.

    Run in a child process (``--in-process``): DuckDB opens a file once per process, and the
    parent holds the files open for the direct SQL.
    """
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from gateway.api.context import RequestTrail
    from gateway.app import build_gateway
    from gateway.settings import Settings

    settings = Settings.from_env({"DATAADGANG_HOME": str(home), "DATAADGANG_RESULT_CACHE_CELLS": "0"})
    gateway = build_gateway(settings)
    saved = json.loads((home / "bench-setup.json").read_text())
    certificate = x509.load_pem_x509_certificate(Path(saved["cert"]).read_bytes())
    principal = gateway.store.principal_for(hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest())
    if principal is None:
        raise SystemExit("the bench user's certificate is not known to the store")
    revision = gateway.store.revision()
    out = {}
    for shape in SHAPES:
        query = shape.cube_query()
        out[shape.name] = _cpu(lambda q=query, s=shape: gateway.sessions(principal, RequestTrail(), revision=revision)
                               .query(s.catalog, q), repeat)
    gateway.registry.close()
    return out


def _in_process_child(setup: Setup, repeat: int) -> dict[str, list[float]]:
    done = subprocess.run([sys.executable, "-m", "bench.shapes", "--in-process", "--home", str(setup.home),
                           "--repeat", str(repeat)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the in-process measurement failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=720.0, help="Ukraine volume (720 ≈ 5.8 million events)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all shapes and paths")
    parser.add_argument("--repeat", type=int, default=15, help="direct SQL runs per shape and round")
    parser.add_argument("--requests", type=int, default=2000, help="cached gateway requests per shape and round")
    parser.add_argument("--uncached-requests", type=int, default=48, help="uncached gateway requests per shape and round")
    parser.add_argument("--clients", type=int, default=8, help="kept-alive mTLS clients")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the cached server")
    parser.add_argument("--home", type=Path, default=None, help="reuse a home built by an earlier run")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(in_process(args.home, args.repeat)))
        return
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the load (scripts/setup installs it)")
    temporary = None
    if args.home is None:
        temporary = tempfile.mkdtemp(prefix="dataadgang-shapes-")
        home = Path(temporary)
    else:
        home = args.home
    try:
        built = (home / "bench-setup.json")
        if built.is_file():
            saved = json.loads(built.read_text())
            setup = Setup(home, Path(saved["ca"]), Path(saved["cert"]), Path(saved["key"]), saved["password"], _free_port())
        else:
            print(f"building the databases (Ukraine at scale {args.scale:g}) ...", file=sys.stderr)
            setup = prepare(home, args.scale)
            built.write_text(json.dumps({"ca": str(setup.ca_file), "cert": str(setup.cert), "key": str(setup.key),
                                         "password": setup.password}))
        run(setup, args)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def run(setup: Setup, args: argparse.Namespace) -> None:
    results = {shape.name: Measured() for shape in SHAPES}
    directs = direct(setup)
    uncached_port, cached_port = _free_port(), _free_port()
    uncached = start(setup, uncached_port, 1, cached=False)
    cached = start(setup, cached_port, args.workers, cached=True)
    try:
        for round_number in range(args.rounds):
            print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
            for shape in SHAPES:
                measured = results[shape.name]
                best, engine, measured.aggregation = directs[shape.name]
                measured.best += _timed(best, args.repeat)
                measured.best_cpu += _cpu(best, args.repeat)
                measured.engine += _timed(engine, args.repeat)
                query = shape.graphql()
                _rps, p50, _p99, measured.cells, _server_cpu = load(setup, uncached_port, query, 1, args.uncached_requests // 2)
                measured.alone.append(p50)
                rps, p50, p99, _cells, _server_cpu = load(setup, uncached_port, query, args.clients, args.uncached_requests)
                measured.uncached.append((rps, p50, p99))
                rps, p50, p99, _cells, cpu = load(setup, cached_port, query, args.clients, args.requests, server=cached.pid,
                                                   warm=True)
                measured.cached.append((rps, p50, p99))
                measured.cached_cpu.append(cpu)
            for name, samples in _in_process_child(setup, args.repeat).items():
                results[name].session_cpu += samples
    finally:
        for server in (uncached, cached):
            server.terminate()
            server.wait(timeout=20)
    report(results, args)


def report(results: dict[str, Measured], args: argparse.Namespace) -> None:
    cores = os.cpu_count()
    print(f"\n{args.rounds} interleaved rounds; {args.clients} kept-alive mTLS clients (curl); {cores} cores shared "
          f"by servers and load (load average now {os.getloadavg()[0]:.1f}); cached server: {args.workers} worker(s); "
          "uncached: 1 worker, result cache off\n")
    header = ("shape", "cells", "best SQL", "engine SQL", "gateway uncached", "uncached/best", "target",
              "CPU: best SQL", "CPU: DataSession.query", "CPU ratio",
              "uncached req/s (p99)", "cached req/s", "cached p50", "cached p99", "cached CPU/req", "target")
    rows = []
    for shape in SHAPES:
        m = results[shape.name]
        best = statistics.median(m.best)
        engine = statistics.median(m.engine)
        u_rps = statistics.median(r[0] for r in m.uncached)
        u_p99 = statistics.median(r[2] for r in m.uncached)
        u_p50 = statistics.median(m.alone)
        c_rps = statistics.median(r[0] for r in m.cached)
        c_p50 = statistics.median(r[1] for r in m.cached)
        c_p99 = statistics.median(r[2] for r in m.cached)
        c_cpu = statistics.median(m.cached_cpu)
        best_cpu = statistics.median(m.best_cpu)
        session_cpu = statistics.median(m.session_cpu)
        target = TARGET_AGGREGATED if m.aggregation else TARGET_UNCACHED
        ratio = u_p50 / best
        cached_target = TARGET_CACHED_RPS.get(shape.name)
        cached_goal = f">= {cached_target:,} req/s, p99 < {TARGET_CACHED_P99_MS:g} ms" if cached_target else ""
        met = "" if not cached_target else (" met" if c_rps >= cached_target and c_p99 * 1000 < TARGET_CACHED_P99_MS else " NOT met")
        rows.append((
            shape.name + (" [aggregation]" if m.aggregation else ""), str(m.cells), f"{best * 1000:.2f} ms",
            f"{engine * 1000:.2f} ms ({engine / best:.2f}x)", f"{u_p50 * 1000:.1f} ms", f"{ratio:.2f}x",
            f"<= {target:g}x {'met' if ratio <= target else 'NOT met'}",
            f"{best_cpu * 1000:.2f} ms", f"{session_cpu * 1000:.2f} ms", f"{session_cpu / best_cpu:.2f}x",
            f"{u_rps:,.0f} ({u_p99 * 1000:.0f} ms)", f"{c_rps:,.0f}",
            f"{c_p50 * 1000:.1f} ms", f"{c_p99 * 1000:.1f} ms", f"{c_cpu * 1000:.2f} ms", cached_goal + met,
        ))
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print("\nbest SQL, engine SQL: medians of the statement alone on the DuckDB file; gateway uncached: p50 of "
          "one client's requests one after another (TLS kept alive), so uncached/best is the whole request's price "
          "over the floor; req/s and p99 with all clients at once; cached CPU/req: the cached server's CPU seconds (all "
          "workers, user + system) per request, which other load on the machine barely moves. CPU: medians of process "
          "CPU time per best SQL statement and per DataSession.query (uncached, in process: below the door), DuckDB's "
          "threads included.")


if __name__ == "__main__":
    main()
