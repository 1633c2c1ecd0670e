"""Writing a user's certificate to disk: PKCS#12 for Windows/macOS, PEM pair for code clients.

Written by ``admin.certificates`` (``user cert issue/renew``, the demo, the portal), so every
channel writes the same three files with the same protection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.files import write_new
from admin.pki.index import format_serial

if TYPE_CHECKING:
    from admin.pki.ca import CertificateAuthority
    from admin.pki.issued import IssuedCertificate


@dataclass(frozen=True)
class ClientBundle:
    """The files written for one user certificate (all mode 0600)."""

    pkcs12_path: Path
    certificate_path: Path
    key_path: Path


def default_bundle_name(login: str, kommune_kode: str, serial: int) -> str:
    """``<kommune>-<login>-<first 8 hex of serial>``, safe as a file name on every OS."""
    safe_login = re.sub(r"[^A-Za-z0-9._-]+", "_", login).strip("._") or "user"
    return f"{kommune_kode}-{safe_login}-{format_serial(serial)[:8]}"


def friendly_name(login: str, kommune_kode: str) -> str:
    """What the Windows/macOS certificate picker shows for the bundle."""
    return f"dataadgang {login} (kommune {kommune_kode})"


def write_client_bundle(
    issued: IssuedCertificate,
    ca: CertificateAuthority,
    out_dir: Path,
    *,
    name: str,
    password: str,
    friendly: str,
) -> ClientBundle:
    """Write ``<name>.p12``, ``<name>.crt.pem`` and ``<name>.key.pem`` (key encrypted with ``password``).

    Refuses (FileExistsError) before writing anything if one of the files already exists.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a usable file name: {name!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = ClientBundle(out_dir / f"{name}.p12", out_dir / f"{name}.crt.pem", out_dir / f"{name}.key.pem")
    for path in (bundle.pkcs12_path, bundle.certificate_path, bundle.key_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists; refusing to overwrite it")
    secret = password.encode("utf-8")
    write_new(bundle.pkcs12_path, issued.pkcs12(ca, password=secret, friendly_name=friendly))
    write_new(bundle.certificate_path, issued.certificate_pem())
    write_new(bundle.key_path, issued.private_key_pem(secret))
    return bundle
