"""What the identity step costs: µs per request in-process, and mTLS vs plain TLS over loopback.

Run: ``.venv/bin/python -m bench.identity [--iterations 20000] [--requests 2000]``

1. The middleware called directly in a loop (certificate already seen once, so the numbers
   are the steady state: cache lookup, validity check, ``revision()`` on every request,
   revoked-set check, principal lookup), without and with the CRL file check (one ``stat``).
2. Kept-alive HTTPS requests to the same endpoint on uvicorn, once with a client certificate
   required plus the identity step, once as plain server-only TLS without it.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn

from admin.pki import CertificateAuthority
from gateway.identity.crl import CertificateRevocationList
from gateway.identity.extract import CertificateExtractor, IdentityMode
from gateway.identity.middleware import IdentityMiddleware
from gateway.identity.proxy import TrustedProxies
from gateway.identity.resolver import IdentityResolver
from tests.support.servers import serve_in_thread
from tests.support.identity import InMemoryIdentitySource
from gateway.identity.tls import uvicorn_config
from gateway.identity.verify import ClientCertificateVerifier
from gateway.principal import Principal, Role


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    principal = scope.get("principal")
    body = (principal.login if principal else "anonymous").encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def _noop_send(message: Any) -> None:
    return None


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _middleware(
    ca: CertificateAuthority, source: InMemoryIdentitySource, mode: IdentityMode, *, crl: bool = False
) -> IdentityMiddleware:
    return IdentityMiddleware(
        hello,
        extractor=CertificateExtractor(mode=mode, trusted_proxies=TrustedProxies.parse(["127.0.0.1/32"])),
        verifier=ClientCertificateVerifier([ca.certificate]),
        resolver=IdentityResolver(source),
        crl=CertificateRevocationList(ca.crl_path, [ca.certificate]) if crl else None,
    )


def in_process(
    ca: CertificateAuthority, source: InMemoryIdentitySource, pem: str, fingerprint: str, iterations: int
) -> dict[str, float]:
    """µs per request for the steady state of each path."""
    tls_scope = {"type": "http", "client": ("127.0.0.1", 5000), "headers": [],
                 "extensions": {"tls": {"client_cert_chain": [pem]}}}
    header = quote(pem, safe="").encode()
    proxy_scope = {"type": "http", "client": ("127.0.0.1", 5000), "headers": [(b"x-ssl-client-cert", header)]}
    results: dict[str, float] = {}
    variants = [
        ("tls extension", IdentityMode.TLS, tls_scope, False),
        ("tls extension + CRL file", IdentityMode.TLS, tls_scope, True),
        ("proxy header", IdentityMode.PROXY, proxy_scope, False),
        ("proxy header + CRL file", IdentityMode.PROXY, proxy_scope, True),
    ]
    for label, mode, scope, crl in variants:
        middleware = _middleware(ca, source, mode, crl=crl)

        async def loop(middleware: IdentityMiddleware = middleware, scope: dict[str, Any] = scope) -> float:
            await middleware(dict(scope), _receive, _noop_send)  # first sight: parse + verify signature
            start = time.perf_counter()
            for _ in range(iterations):
                await middleware(dict(scope), _receive, _noop_send)
            return time.perf_counter() - start

        results[f"middleware ({label})"] = asyncio.run(loop()) / iterations * 1e6

    async def bare(scope: dict[str, Any] = tls_scope) -> float:
        start = time.perf_counter()
        for _ in range(iterations):
            await hello(dict(scope), _receive, _noop_send)
        return time.perf_counter() - start

    results["app alone (baseline)"] = asyncio.run(bare()) / iterations * 1e6
    resolver = IdentityResolver(source)
    start = time.perf_counter()
    for _ in range(iterations):
        resolver.resolve(fingerprint)
    results["resolver.resolve (revision + revoked + cache)"] = (time.perf_counter() - start) / iterations * 1e6
    return results


def _rate(client: httpx.Client, url: str, requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        client.get(url).raise_for_status()
    return requests / (time.perf_counter() - start)


def over_loopback(
    mtls: tuple[uvicorn.Config, ssl.SSLContext], plain: tuple[uvicorn.Config, ssl.SSLContext], requests: int, rounds: int
) -> tuple[float, float]:
    """Best requests/s of each over ``rounds`` interleaved runs, one kept-alive connection each.

    Interleaving and best-of keep a busy machine's noise from landing on one side only.
    """
    with serve_in_thread(mtls[0]) as mtls_server, serve_in_thread(plain[0]) as plain_server, httpx.Client(
        verify=mtls[1], timeout=10.0
    ) as mtls_client, httpx.Client(verify=plain[1], timeout=10.0) as plain_client:
        mtls_url, plain_url = f"https://localhost:{mtls_server.port}/", f"https://localhost:{plain_server.port}/"
        _rate(mtls_client, mtls_url, min(50, requests))  # warm up: handshake, caches
        _rate(plain_client, plain_url, min(50, requests))
        best_mtls = best_plain = 0.0
        for _ in range(rounds):
            best_mtls = max(best_mtls, _rate(mtls_client, mtls_url, requests))
            best_plain = max(best_plain, _rate(plain_client, plain_url, requests))
        return best_mtls, best_plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000, help="in-process loop length")
    parser.add_argument("--requests", type=int, default=1_000, help="HTTPS requests per server and round (bounded)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each side counts")
    args = parser.parse_args()
    iterations = max(1, min(args.iterations, 1_000_000))
    requests = max(1, min(args.requests, 50_000))
    rounds = max(1, min(args.rounds, 20))

    with tempfile.TemporaryDirectory(prefix="bench-identity-") as tmp:
        root = Path(tmp)
        ca = CertificateAuthority.create(root / "ca")
        ca.issue_server_certificate(["localhost", "127.0.0.1"], out_dir=root / "server")
        issued = ca.issue_client_certificate(login="bench", kommune_kode="101")
        (root / "client.crt").write_bytes(issued.certificate_pem())
        (root / "client.key").write_bytes(issued.private_key_pem())
        source = InMemoryIdentitySource()
        source.add(Principal(1, "bench", "101", frozenset({Role.USER}), issued.fingerprint, issued.serial, issued.not_after))
        for number in range(1000):  # a realistic revoked set to look things up in
            source.revoke(f"{number:064x}")

        print(f"identity step, in process ({iterations} iterations, revision() asked every request):")
        costs = in_process(ca, source, issued.certificate_pem().decode(), issued.fingerprint, iterations)
        for label, micros in costs.items():
            print(f"  {label:<48} {micros:8.2f} µs/request")
        overhead = costs["middleware (tls extension)"] - costs["app alone (baseline)"]
        print(f"  {'identity overhead (tls extension)':<48} {overhead:8.2f} µs/request")
        with_crl = costs["middleware (tls extension + CRL file)"] - costs["app alone (baseline)"]
        print(f"  {'identity overhead (tls extension + CRL file)':<48} {with_crl:8.2f} µs/request")

        server_cert, server_key = str(root / "server" / "server.crt"), str(root / "server" / "server.key")
        mtls = uvicorn_config(
            _middleware(ca, source, IdentityMode.TLS, crl=True), host="127.0.0.1", port=0, certfile=server_cert,
            keyfile=server_key, ca_file=str(ca.ca_cert_path), lifespan="off", log_level="warning",
        )
        plain = uvicorn.Config(
            hello, host="127.0.0.1", port=0, ssl_certfile=server_cert, ssl_keyfile=server_key,
            http="httptools", lifespan="off", log_level="warning", proxy_headers=False,
        )
        client_context = ssl.create_default_context(cafile=str(ca.ca_cert_path))
        client_context.load_cert_chain(str(root / "client.crt"), str(root / "client.key"))
        server_only = ssl.create_default_context(cafile=str(ca.ca_cert_path))

        print(f"\nkept-alive HTTPS over loopback (best of {rounds} interleaved rounds of {requests} requests, httpx):")
        mtls_rps, tls_rps = over_loopback((mtls, client_context), (plain, server_only), requests, rounds)
        print(f"  {'mTLS + identity step':<48} {mtls_rps:8.0f} requests/s")
        print(f"  {'plain TLS, no identity step':<48} {tls_rps:8.0f} requests/s")
        print(f"  {'ratio mTLS+identity / plain TLS':<48} {mtls_rps / tls_rps:8.2f}")


if __name__ == "__main__":
    main()
