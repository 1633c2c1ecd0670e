"""The wheel carries everything the gateway needs: built, installed into a fresh venv, and the
demo prepared and served from a directory outside the checkout.

Offline: the wheel is built with the setuptools of the test's own environment
(``--no-build-isolation``), installed with ``--no-deps --no-index``, and the fresh venv reaches
the already-installed dependencies through a ``.pth`` line (a path line, so the checkout's
editable install in that directory is *not* activated: the wheel's copy is what runs).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import httpx
import pytest

from gateway.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "setup.py", "README.md", "gateway", "admin", "schema")


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    finished = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert finished.returncode == 0, f"{command}\n{finished.stdout}\n{finished.stderr}"
    return finished.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in SOURCES:
        origin = PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
         cwd=root)
    (wheel,) = wheels.glob("dataadgang-*.whl")
    target = root / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).strip())
    (purelib / "dataadgang_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=root)
    return target / "bin"


def _env(home: Path) -> dict[str, str]:
    """No setting from the test run leaks in; only the home is given."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DATAADGANG_")}
    env.pop("PYTHONPATH", None)
    return {**env, "DATAADGANG_HOME": str(home)}


def test_the_wheel_holds_the_models_migrations_and_data(installed: Path, tmp_path: Path) -> None:
    script = (
        "import gateway, gateway.settings as s, json, pathlib;"
        "p = pathlib.Path(gateway.__file__).parent;"
        "print(json.dumps([str(p), str(s.Settings.from_env().schema_dir),"
        " sorted(x.name for x in (p / 'schema').iterdir()),"
        " sorted(x.name for x in (p / 'store' / 'migrations' / 'versions').glob('0*.py'))]))"
    )
    package, schema_dir, schema_files, migrations = json.loads(
        _run([str(installed / "python"), "-c", script], cwd=tmp_path, env=_env(tmp_path / "home"))
    )
    assert package.startswith(str(installed.parent)), package  # the wheel's copy, not the checkout
    assert schema_dir == str(Path(package) / "schema")
    assert schema_files == ["borger.yaml", "gateway.graphql", "kl_databank.yaml", "ukraine.yaml", "voksenhandicap.yaml",
                            "voksenhandicap_maalgrupper.csv"]  # the målgruppe list a deployment replaces
    assert migrations and all(name.endswith(".py") for name in migrations)
    assert (Path(package) / "data" / "kommuner.csv").is_file()


def test_the_installed_demo_prepares_and_serves_from_any_directory(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    env = _env(home)
    output = _run([str(installed / "dataadgang"), "demo", "--no-serve", "--kommune", "101"], cwd=elsewhere, env=env)
    assert "curl -sS" in output and "FLIS Ukraine-101" in output
    assert not any(elsewhere.iterdir())  # everything went into $DATAADGANG_HOME
    assert (home / "metadata.sqlite").is_file() and (home / "ca" / "crl.pem").is_file()

    port = _free_port()
    server = subprocess.Popen(
        [str(installed / "dataadgang"), "serve"], cwd=elsewhere, env={**env, "DATAADGANG_PORT": str(port)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the installed gateway did not start"
                time.sleep(0.2)
        user = home / "users" / "kl_pri"
        context = ssl.create_default_context(cafile=str(home / "ca" / "ca.crt.pem"))
        password = (user / "password.txt").read_text(encoding="utf-8").strip()
        context.load_cert_chain(str(user / "kl_pri.crt.pem"), str(user / "kl_pri.key.pem"), password=password)
        query = '{ execute(catalog: "FLIS Ukraine-101", query: {cube: "Ukraine Statistik", measures: ["[Measures].[Indrejste]"]}) { cellSet { cells { value } } } }'
        with httpx.Client(verify=context, timeout=30) as client:
            response = client.post(f"https://127.0.0.1:{port}/graphql", json={"query": query})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["execute"]["cellSet"]["cells"][0]["value"] > 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def test_the_installed_command_line_answers_mistakes_in_one_line(installed: Path, tmp_path: Path) -> None:
    finished = subprocess.run(
        [str(installed / "dataadgang"), "pki", "list"], cwd=tmp_path, env=_env(tmp_path / "home"),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [f"Error: no CA in {tmp_path / 'home' / 'ca'}: run `dataadgang pki init` first"]
