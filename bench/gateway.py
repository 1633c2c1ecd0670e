"""The whole gateway under load: kept-alive mTLS clients vs the same query straight on DuckDB.

Run: ``.venv/bin/python -m bench.gateway [--clients 8] [--workers 1] [--client curl|httpx]``

A throwaway home with one kommune's Ukraine database, a CA, a user with a grant and a server
is set up; ``dataadgang serve`` runs in its own process (as in production); the load comes from
another process (curl's parallel mode, or asyncio + httpx), one kept-alive connection per
client, bounded in count or time. The
same query is then compiled by the engine and run directly on DuckDB for the baseline. Prints
requests/s, p50/p99 and the overhead ratios. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing import Process, Queue
from pathlib import Path

import httpx

QUERY = (
    '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]",'
    ' "[Measures].[Udrejste]"], rows: [{level: "[Køn].[Køn]"}]}) { cellSet { cells { ordinal value } } } }'
)


@dataclass(frozen=True)
class Setup:
    home: Path
    ca_file: Path
    cert: Path
    key: Path
    password: str
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(home: Path, scale: float) -> Setup:
    from admin.certificates import issue_user_certificate
    from gateway.data.demo import build_demo_data
    from gateway.demo import DEMO_OPERATOR, prepare_pki
    from gateway.model import load_catalog
    from gateway.settings import Settings
    from gateway.store.store import MetadataStore

    settings = Settings.from_env({"DATAADGANG_HOME": str(home)})
    build_demo_data(settings, kommuner=["101"], areas=("ukraine",), progress=False, scale=scale)
    ca, _cert, _key = prepare_pki(settings)
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        store.onboard_kommune(DEMO_OPERATOR, "101")
        login = "komb-fli-prod\\bench"
        store.add_user(DEMO_OPERATOR, kommune_kode="101", login=login)
        areas = frozenset(load_catalog(settings.schema_dir).areas)
        store.add_grant(DEMO_OPERATOR, login=login, area="ukraine", valid_areas=areas, purpose="benchmark")
        issued = issue_user_certificate(store, ca, DEMO_OPERATOR, login, home / "bench-user", bundle_name="bench")
    return Setup(
        home=home,
        ca_file=settings.ca_dir / "ca.crt.pem",
        cert=issued.bundle.certificate_path,
        key=issued.bundle.key_path,
        password=issued.password,
        port=_free_port(),
    )


def start_server(setup: Setup, workers: int = 1, *, result_cache: bool = True) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATAADGANG_HOME": str(setup.home), "DATAADGANG_PORT": str(setup.port)}
    if not result_cache:
        env["DATAADGANG_RESULT_CACHE_CELLS"] = "0"  # every request runs the engine and DuckDB
    command = [sys.executable, "-m", "gateway.cli", "serve", "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", setup.port), timeout=0.2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"server failed: {server.stderr.read().decode() if server.stderr else ''}") from None
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start within 30 s")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server process and its workers so far (Linux ``/proc``; NaN
    elsewhere): divided by the requests served, a cost per request that other load on the machine
    barely moves, unlike requests/s."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0.0
    for process in (pid, *map(int, children)):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that just exited
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def _ssl_context(setup: Setup) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(setup.ca_file))
    context.load_cert_chain(str(setup.cert), str(setup.key), password=setup.password)
    return context


async def _client(setup: Setup, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    url = f"https://127.0.0.1:{setup.port}/graphql"
    async with httpx.AsyncClient(verify=_ssl_context(setup), timeout=10) as client:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = await client.post(url, json={"query": QUERY})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or "errors" in response.json():
                errors.append(response.text[:200])


def _load(setup: Setup, clients: int, seconds: float, out: Queue) -> None:  # type: ignore[type-arg]
    latencies: list[float] = []
    errors: list[str] = []

    async def main() -> None:
        warm_until = time.perf_counter() + 1.0  # handshakes and caches first, not measured
        await asyncio.gather(*(_client(setup, warm_until, [], errors) for _ in range(clients)))
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(_client(setup, stop_at, latencies, errors) for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    out.put((latencies, errors, time.perf_counter() - started - 1.0))


def curl_command(setup: Setup, body: Path, content_type: str, clients: int) -> list[str]:
    """curl in parallel mode with the bench user's mTLS credentials, POSTing ``body``."""
    return ["curl", "-sS", "--parallel", "--parallel-max", str(clients), "--cacert", str(setup.ca_file),
            "--cert", str(setup.cert), "--key", str(setup.key), "--pass", setup.password,
            "-H", f"content-type: {content_type}", "--data-binary", f"@{body}"]


def curl_warm(setup: Setup, url: str, body: Path, content_type: str, clients: int, requests: int) -> None:
    """Unmeasured requests first, so caches and connections are as a measured run finds them."""
    warmup = body.with_name(body.name + ".warm")
    warmup.write_text("".join(f'url = "{url}"\noutput = "/dev/null"\n' for _ in range(requests)), encoding="utf-8")
    done = subprocess.run([*curl_command(setup, body, content_type, clients), "-K", str(warmup)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"curl failed: {done.stderr[:300]}")


def curl_load(setup: Setup, url: str, body: Path, content_type: str, clients: int,
              requests: int) -> tuple[list[float], list[str], float]:
    """``requests`` POSTs of ``body`` to ``url`` over ``clients`` kept-alive mTLS connections from
    curl's parallel mode (C, one process: it costs less CPU than an asyncio client, which matters
    when client and server share two cores). Returns each request's seconds, the lines of those
    not answered 200, and the wall time."""
    command = curl_command(setup, body, content_type, clients)
    urls = body.with_name(body.name + ".urls")
    urls.write_text("".join(f'url = "{url}"\noutput = "/dev/null"\n' for _ in range(requests)), encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([*command, "-w", "%{http_code} %{time_total}\n", "-K", str(urls)],
                          capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    latencies, errors = [], []
    for line in done.stdout.splitlines():
        code, seconds = line.split()
        latencies.append(float(seconds))
        if code != "200":
            errors.append(line)
    if not latencies:
        raise SystemExit(f"curl failed: {done.stderr[:300]}")
    return latencies, errors, elapsed


def _load_with_curl(setup: Setup, clients: int, requests: int) -> tuple[list[float], list[str], float]:
    body = setup.home / "bench-body.json"
    body.write_text(json.dumps({"query": QUERY}), encoding="utf-8")
    url = f"https://127.0.0.1:{setup.port}/graphql"
    curl_warm(setup, url, body, "application/json", 1, 1)
    return curl_load(setup, url, body, "application/json", clients, requests)


def direct(setup: Setup, seconds: float) -> list[float]:
    """The engine's own SQL for the same query, run straight on DuckDB: the floor."""
    from gateway.engine.compile import compile_plan
    from gateway.engine.plan import plan_query
    from gateway.engine.query import CubeQuery, LevelItem
    from gateway.model import load_catalog
    from gateway.registry import DatabaseRegistry
    from gateway.settings import Settings

    settings = Settings.from_env({"DATAADGANG_HOME": str(setup.home)})
    registry = DatabaseRegistry.from_settings(settings)
    catalog = load_catalog(settings.schema_dir)
    ref = catalog.resolve_database("FLIS Ukraine-101")
    assert ref is not None  # noqa: S101 - the benchmark just built it
    query = CubeQuery("Ukraine Statistik", ("[Measures].[Indrejste]", "[Measures].[Udrejste]"), rows=(LevelItem("[Køn].[Køn]"),))
    latencies = []
    with registry.connect(ref.name) as connection:
        statement, _labels = compile_plan(plan_query(connection, catalog.cubes_for(ref), query, cell_limit=10**6))
        sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
        raw = connection.connection.driver_connection  # the DuckDB connection itself
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            raw.execute(sql).fetchall()
            latencies.append(time.perf_counter() - started)
    registry.close()
    return latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent kept-alive mTLS clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured load duration (bounded)")
    parser.add_argument("--scale", type=float, default=1.0, help="Ukraine data volume (1.0 = demo size)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (dataadgang serve --workers)")
    parser.add_argument("--client", choices=("curl", "httpx"), default="curl" if shutil.which("curl") else "httpx",
                        help="load generator: curl's parallel mode (default when installed) or asyncio httpx")
    parser.add_argument("--requests", type=int, default=4000, help="requests for the curl client (bounded)")
    parser.add_argument("--no-result-cache", action="store_true", help="serve with the result cache off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dataadgang-bench-") as tmp:
        setup = prepare(Path(tmp), args.scale)
        server = start_server(setup, args.workers, result_cache=not args.no_result_cache)
        try:
            if args.client == "curl":
                cpu_before = server_cpu_seconds(server.pid)  # (curl's warm-up request counted in: one of thousands)
                latencies, errors, elapsed = _load_with_curl(setup, args.clients, min(args.requests, 50_000))
            else:
                out: Queue = Queue()  # type: ignore[type-arg]
                loader = Process(target=_load, args=(setup, args.clients, min(args.seconds, 120.0), out))
                loader.start()
                cpu_before = server_cpu_seconds(server.pid)  # (the warm-up second counted in)
                latencies, errors, elapsed = out.get(timeout=args.seconds + 120)
                loader.join()
            server_cpu = server_cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=10)
        base = direct(setup, min(args.seconds, 30.0))
    if not latencies:
        raise SystemExit(f"no request completed; errors: {errors[:3]}")
    rps = len(latencies) / elapsed
    gp50, gp99 = _percentile(latencies, 50) * 1000, _percentile(latencies, 99) * 1000
    dp50, dp99 = _percentile(base, 50) * 1000, _percentile(base, 99) * 1000
    direct_qps = len(base) / sum(base)
    result = {
        "clients": args.clients,
        "gateway_requests": len(latencies),
        "gateway_errors": len(errors),
        "gateway_rps": round(rps, 1),
        "gateway_p50_ms": round(gp50, 2),
        "gateway_p99_ms": round(gp99, 2),
        "server_cpu_ms_per_request": round(server_cpu / len(latencies) * 1000, 3),
        "direct_qps_one_thread": round(direct_qps, 1),
        "direct_p50_ms": round(dp50, 3),
        "direct_p99_ms": round(dp99, 3),
    }
    print(json.dumps(result, indent=1))
    print()
    cache = "off" if args.no_result_cache else "on"
    print(f"gateway ({args.workers} worker(s), result cache {cache}) over kept-alive mTLS, {args.clients} {args.client} clients: {rps:,.0f} requests/s, p50 {gp50:.1f} ms, p99 {gp99:.1f} ms")
    print(f"server CPU per request (all workers, user + system): {server_cpu / len(latencies) * 1000:.2f} ms; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"direct DuckDB, same SQL, one thread:       {direct_qps:,.0f} queries/s, p50 {dp50:.2f} ms, p99 {dp99:.2f} ms")
    print(f"overhead ratio p50 (gateway / direct): {gp50 / dp50:.1f}x; throughput ratio (direct / gateway): {direct_qps / rps:.2f}x")
    print(f"targets: >= 500 requests/s ({'met' if rps >= 500 else 'NOT met'}), p99 < 50 ms ({'met' if gp99 < 50 else 'NOT met'})")
    if errors:
        print(f"{len(errors)} requests failed, e.g. {errors[0]}")


if __name__ == "__main__":
    main()
