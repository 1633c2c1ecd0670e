"""``dataadgang serve --workers 2`` as a real process: access taken away by another process (the
CLI) is refused on the very next request of every kept-alive connection, in every worker.

Each worker keeps its own caches of verified certificates and principals; only the metadata
store is shared. So the test opens connections until both workers hold some (proved from
/proc: which process owns the server side of each TCP connection), then revokes or suspends
with the CLI in a separate process and asks once more on each connection.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from admin.certificates import issue_user_certificate
from admin.pki.index import format_serial
from gateway.data.demo import build_demo_data
from gateway.data.layout import AREAS
from gateway.demo import prepare_pki
from gateway.settings import PROJECT_ROOT, Settings
from gateway.store.store import MetadataStore
from gateway.store.views import Actor

OPERATOR = Actor.operator("serve-workers-test")
DATABASE = "FLIS Ukraine-101"
EXECUTE = (
    f'{{ execute(catalog: "{DATABASE}", query: {{cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]}})'
    " { cellSet { cells { value } } } }"
)
UNAUTHENTICATED = {
    "errors": [
        {"message": "A valid client certificate issued by dataadgang is required.", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
}
CONNECTIONS = 8
MAX_CONNECTIONS = 32  # open more (bounded) only while the kernel has sent every one to the same worker
WORKERS = 2


@dataclass(frozen=True)
class User:
    login: str
    serial: int
    cert: Path
    key: Path
    password: str


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    home: Path
    port: int
    ca_file: Path
    env: dict[str, str]
    log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """Run ``python -m gateway.cli ARGS`` in a process of its own, as an operator would."""
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args], env=self.env, cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@dataclass
class Connection:
    """One kept-alive mTLS connection (an httpx client holding a single pooled connection)."""

    client: httpx.Client
    client_port: int = 0

    def post(self, query: str) -> httpx.Response:
        response = self.client.post("/graphql", json={"query": query})
        port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        if self.client_port and port != self.client_port:
            raise AssertionError(f"the connection was not kept alive: port {self.client_port} became {port}")
        self.client_port = port
        return response


def _free_port() -> int:
    """A port the OS picks; the CLI binds it itself, so it is released again first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_user(store: MetadataStore, ca: Any, users_dir: Path, name: str) -> User:
    login = f"komb-fli-prod\\workers_{name}"
    store.add_user(OPERATOR, kommune_kode="101", login=login)
    store.add_grant(OPERATOR, login=login, area="ukraine", valid_areas=AREAS, purpose="serve --workers test")
    issued = issue_user_certificate(store, ca, OPERATOR, login, users_dir / name, bundle_name=name)
    return User(login, issued.issued.serial, issued.bundle.certificate_path, issued.bundle.key_path, issued.password)


def _children(pid: int) -> set[int]:
    """Direct children of ``pid``, from /proc/<n>/stat (field 4 is the parent's pid)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _socket_inodes(local_port: int) -> dict[int, str]:
    """Remote port -> socket inode of the established IPv4 connections whose local port is ``local_port``."""
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == local_port:
            inodes[int(remote.split(":")[1], 16)] = inode
    return inodes


def _owner(pids: set[int], inode: str) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return pid
    return None


def _worker_of(server: Server, connections: list[Connection]) -> dict[int, int]:
    """Client port -> pid of the worker process that accepted that connection."""
    workers = _children(server.process.pid)
    inodes = _socket_inodes(server.port)
    owners = {}
    for connection in connections:
        owner = _owner(workers, inodes[connection.client_port])
        assert owner is not None, f"no worker holds the connection from port {connection.client_port}"
        owners[connection.client_port] = owner
    return owners


@contextlib.contextmanager
def _serve(home: Path, ca_file: Path, log: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAADGANG_")}
    port = _free_port()
    env.update({"DATAADGANG_HOME": str(home), "DATAADGANG_PORT": str(port)})
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--workers", str(WORKERS)],
            env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(process, home, port, ca_file, env, log)
    try:
        yield server
    finally:
        process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session this test started: supervisor and workers
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, User]]]:
    root = tmp_path_factory.mktemp("serve-workers")
    settings = Settings.from_env({"DATAADGANG_HOME": str(root / "home")})
    settings.home.mkdir(parents=True)
    ca, _cert, _key = prepare_pki(settings)
    assert build_demo_data(settings, kommuner=["101"], areas=("ukraine",), scale=0.02, progress=False) == [DATABASE, "FLIS Ukraine Benchmark"]
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        store.onboard_kommune(OPERATOR, "101")
        users = {name: _make_user(store, ca, root / "users", name) for name in ("revoked", "suspended", "bystander")}
    with _serve(settings.home, ca.ca_cert_path, root / "serve.log") as server:
        yield server, users
        assert server.process.poll() is None, server.log.read_text()  # still serving after all the tests


def _client(server: Server, user: User) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    context.load_cert_chain(str(user.cert), str(user.key), password=user.password)
    # one connection per client: every request of a client goes over the same kept-alive socket, which
    # httpx must not drop itself while the CLI runs (its default keep-alive expiry is 5 s; the server's is 30 s)
    limits = httpx.Limits(max_connections=1, keepalive_expiry=25.0)
    return httpx.Client(base_url=server.url, verify=context, timeout=10.0, limits=limits)


def _wait_until_serving(server: Server, user: User, timeout: float = 60.0) -> None:
    """Every worker has started its app (uvicorn logs it once per worker) and one answers."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise AssertionError(f"serve exited with {server.process.returncode}:\n{server.log.read_text()}")
        started = server.log.read_text(errors="replace").count("Application startup complete")
        try:
            if started >= WORKERS:
                with _client(server, user) as client:
                    if client.get("/healthz").status_code == 200:
                        return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"serve did not answer within {timeout} s:\n{server.log.read_text()}")
        time.sleep(0.1)


@contextlib.contextmanager
def _connections_on_every_worker(server: Server, user: User) -> Iterator[tuple[list[Connection], dict[int, int]]]:
    """At least CONNECTIONS kept-alive connections, each served once, spread over every worker."""
    _wait_until_serving(server, user)
    connections: list[Connection] = []
    try:
        while True:
            batch = [Connection(_client(server, user)) for _ in range(CONNECTIONS)]
            connections.extend(batch)
            with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:  # at once, as BI tools do
                answers = list(pool.map(lambda c: c.post(EXECUTE), batch))
            for answer in answers:
                assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
                assert answer.json()["data"]["execute"]["cellSet"]["cells"][0]["value"] > 0
            owners = _worker_of(server, connections)
            if len(set(owners.values())) == WORKERS or len(connections) >= MAX_CONNECTIONS:
                break
        assert len(set(owners.values())) == WORKERS, f"all {len(connections)} connections went to one worker: {owners}"
        yield connections, owners
    finally:
        for connection in connections:
            connection.client.close()


def _refused_within_a_second(connections: list[Connection]) -> float:
    """Ask once more on every connection right away; each must be a 401 on the same socket."""
    started = time.monotonic()
    for connection in connections:
        response = connection.post(EXECUTE)
        assert response.status_code == 401, response.text
        assert response.json() == UNAUTHENTICATED
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"{len(connections)} refusals took {elapsed:.2f} s"
    return elapsed


def test_a_certificate_revoked_by_the_cli_is_refused_by_every_worker_on_the_next_request(
    served: tuple[Server, dict[str, User]],
) -> None:
    server, users = served
    user = users["revoked"]
    with _connections_on_every_worker(server, user) as (connections, owners):
        out = server.cli("user", "cert", "revoke", format_serial(user.serial), "--reason", "key-compromise")
        assert f"revoked certificate {format_serial(user.serial)}" in out
        _refused_within_a_second(connections)
        assert _worker_of(server, connections) == owners  # the same connections, the same workers
    with _client(server, user) as fresh:  # and a new connection with the revoked certificate too
        assert fresh.post("/graphql", json={"query": EXECUTE}).status_code == 401
    with _client(server, users["bystander"]) as other:  # nobody else is touched
        assert other.post("/graphql", json={"query": EXECUTE}).status_code == 200


def test_a_user_suspended_by_the_cli_is_refused_by_every_worker_on_the_next_request(
    served: tuple[Server, dict[str, User]],
) -> None:
    server, users = served
    user = users["suspended"]
    with _connections_on_every_worker(server, user) as (connections, owners):
        assert server.cli("user", "suspend", user.login).strip() == f"suspended {user.login}"
        _refused_within_a_second(connections)
        assert _worker_of(server, connections) == owners
        server.cli("user", "activate", user.login)  # and back: the same connections are served again
        for connection in connections:
            assert connection.post(EXECUTE).status_code == 200
    with _client(server, users["bystander"]) as other:
        assert other.post("/graphql", json={"query": EXECUTE}).status_code == 200


_XMLA = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>{header}</soap:Header>'
    '<soap:Body><Execute xmlns="urn:schemas-microsoft-com:xml-analysis"><Command><Statement>{statement}</Statement>'
    "</Command><Properties><PropertyList><Catalog>FLIS Ukraine-101</Catalog></PropertyList></Properties></Execute>"
    "</soap:Body></soap:Envelope>"
)


def _xmla(connection: Connection, header: str, statement: str = "") -> str:
    response = connection.client.post(
        "/xmla", content=_XMLA.format(header=header, statement=statement).encode(), headers={"content-type": "text/xml"}
    )
    assert response.status_code == 200, response.text
    return response.text


def test_an_xmla_session_begun_in_one_worker_continues_in_the_other(served: tuple[Server, dict[str, User]]) -> None:
    from lxml import etree

    server, users = served
    with _connections_on_every_worker(server, users["bystander"]) as (connections, owners):
        by_worker: dict[int, Connection] = {}
        for connection in connections:
            by_worker.setdefault(owners[connection.client_port], connection)
        first, second = list(by_worker.values())[:2]
        begun = etree.fromstring(_xmla(first, '<BeginSession xmlns="urn:schemas-microsoft-com:xml-analysis"/>').encode())
        session = begun.find(".//{urn:schemas-microsoft-com:xml-analysis}Session").get("SessionId")
        header = f'<Session xmlns="urn:schemas-microsoft-com:xml-analysis" SessionId="{session}"/>'
        answer = _xmla(second, header, "SELECT {[Measures].[Indrejste]} ON 0 FROM [Ukraine Statistik]")
        assert "<soap:Fault>" not in answer and f'SessionId="{session}"' in answer and "<CellData>" in answer
        assert _worker_of(server, [first, second]) == {c.client_port: owners[c.client_port] for c in (first, second)}
        ended = _xmla(first, f'<EndSession xmlns="urn:schemas-microsoft-com:xml-analysis" SessionId="{session}"/>')
        assert "<soap:Fault>" not in ended
        assert "was not found" in _xmla(second, header)
