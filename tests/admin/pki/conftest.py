"""A real CA per test where the index matters, one shared CA where it does not (RSA keys are slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from admin.pki import CertificateAuthority
from tests.support.missing import missing_part


@pytest.fixture(autouse=True)
def _no_ambient_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's own DATAADGANG_CA_PASSPHRASE must not leak into tests."""
    monkeypatch.delenv("DATAADGANG_CA_PASSPHRASE", raising=False)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    """A fresh CA whose index and CRL belong to this test alone."""
    return CertificateAuthority.create(tmp_path / "ca")


@pytest.fixture(scope="module")
def shared_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """For tests that only look at the certificates they issue, never at the index as a whole."""
    return CertificateAuthority.create(tmp_path_factory.mktemp("shared") / "ca")


@pytest.fixture(scope="module")
def stranger_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """Another CA with the very same name: only its key tells it apart."""
    return CertificateAuthority.create(tmp_path_factory.mktemp("stranger") / "ca")


@pytest.fixture
def openssl() -> str:
    """The real openssl binary; missing fails under CI=true (scripts/setup installs it), else skips."""
    path = shutil.which("openssl")
    if path is None:
        missing_part("openssl is not installed")
    return path
