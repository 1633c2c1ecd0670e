"""Several processes issuing at once must leave one consistent index: every certificate, unique serials."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cryptography import x509

from admin.pki import CertificateAuthority
from gateway.settings import PROJECT_ROOT, Settings
from gateway.store import MetadataStore
from gateway.store.views import Actor

# The real `dataadgang` command line in a fresh interpreter.
_CLI = "import sys; from gateway.cli import main; main(['--home', sys.argv[1], *sys.argv[2:]])"
OPERATOR = Actor.operator("concurrency-test")


def _crl_number(ca: CertificateAuthority) -> int:
    published = x509.load_pem_x509_crl(ca.crl_path.read_bytes())
    return published.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_concurrent_cli_issuance_keeps_the_index_consistent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ca = CertificateAuthority.create(home / "ca")
    crl_number_before = _crl_number(ca)
    with MetadataStore.from_settings(Settings.from_env({"DATAADGANG_HOME": str(home)})) as store:
        store.migrate()
        store.onboard_kommune(OPERATOR, "101")
        for i in range(6):
            store.add_user(OPERATOR, kommune_kode="101", login=f"test\\user{i}")

    issuers = [
        [sys.executable, "-c", _CLI, str(home), "user", "cert", "issue", f"test\\user{i}", "--out", str(tmp_path / "out")]
        for i in range(6)
    ]
    publishers = [[sys.executable, "-c", _CLI, str(home), "pki", "crl"] for _ in range(2)]
    processes = [
        subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in issuers + publishers
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stdout + stderr

    printed = {int(match, 16) for stdout, _ in outputs[:6] for match in re.findall(r"certificate ([0-9A-F]+)", stdout)}
    assert len(printed) == 6

    data = json.loads(ca.index.path.read_text(encoding="utf-8"))  # still valid JSON
    records = ca.list_certificates()
    clients = [record for record in records if record.kind == "client"]
    assert {record.serial for record in clients} == printed
    assert sorted(record.login or "" for record in clients) == [f"test\\user{i}" for i in range(6)]
    assert all(record.revoked_at is None for record in clients)  # the concurrent `pki crl` took none for orphans
    assert len({record.serial for record in records}) == len(records) == 7
    assert data["crl_number"] == _crl_number(ca) == crl_number_before + 2
    published = x509.load_pem_x509_crl(ca.crl_path.read_bytes())
    assert published.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert len(list((tmp_path / "out").glob("*.p12"))) == 6
    assert not list(ca.ca_dir.glob(".*.tmp"))  # no temp files left behind
