"""Our server and client certificates in a real mutual-TLS handshake, with the CRL enforced by OpenSSL."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509

from admin.pki import CertificateAuthority, IssuedCertificate


def _client_files(tmp_path: Path, name: str, issued: IssuedCertificate) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_bytes(issued.certificate_pem())
    key.write_bytes(issued.private_key_pem(b"pw"))
    return cert, key


def _handshake(ca: CertificateAuthority, server_dir: Path, client: tuple[Path, Path]) -> bytes | BaseException:
    """One TLS connection on a port-0 socket: the peer certificate the server saw, or the server's error."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server_dir / "server.crt", server_dir / "server.key")
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(cafile=ca.ca_cert_path)
    server_context.load_verify_locations(cafile=ca.crl_path)
    server_context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF

    client_context = ssl.create_default_context(cafile=str(ca.ca_cert_path))
    client_context.load_cert_chain(client[0], client[1], password="pw")

    seen: list[bytes] = []
    errors: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    seen.append(tls.getpeercert(binary_form=True) or b"")
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as error:
                errors.append(error)
                connection.close()

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.recv(2)
        except (ssl.SSLError, OSError):
            pass  # the server's side says why
        finally:
            thread.join(timeout=10)
    return errors[0] if errors else seen[0]


def test_client_certificate_passes_mutual_tls_until_revoked(ca: CertificateAuthority, tmp_path: Path) -> None:
    ca.issue_server_certificate(["localhost", "127.0.0.1"], out_dir=tmp_path / "server")
    issued = ca.issue_client_certificate(login="komb-fli-prod\\kl_pri", kommune_kode="101")
    files = _client_files(tmp_path, "user", issued)

    peer = _handshake(ca, tmp_path / "server", files)
    assert isinstance(peer, bytes), peer
    assert x509.load_der_x509_certificate(peer) == issued.certificate

    ca.revoke(issued.serial, x509.ReasonFlags.key_compromise)
    refused = _handshake(ca, tmp_path / "server", files)
    assert isinstance(refused, ssl.SSLError) and "revoked" in str(refused)
