"""``dataadgang serve`` and ``dataadgang demo``: run the gateway over mutual TLS."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
import uvicorn
from cryptography.hazmat.primitives import serialization
from uvicorn.supervisors import Multiprocess

from gateway.settings import Settings


def _run(settings: Settings, *, certfile: Path, keyfile: Path, workers: int = 1, portal_only: bool = False) -> None:
    """Serve in this process, or in ``workers`` processes sharing one listening socket.

    Workers build their app from the environment (``admin.server:app_from_env``), so the
    settings reach them as ``DATAADGANG_*`` variables; each checks revocation on every request
    against the shared metadata store, and the audit chain serialises their writes.
    """
    from gateway.identity.tls import uvicorn_config, uvicorn_config_behind_proxy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers > 1:
        os.environ["DATAADGANG_HOME"] = str(settings.home)
        app: object = "admin.server:portal_app_from_env" if portal_only else "admin.server:app_from_env"
        extra: dict[str, object] = {"factory": True, "workers": workers}
    else:
        from admin.server import create_portal_app, create_server_app

        app, extra = (create_portal_app(settings) if portal_only else create_server_app(settings)), {}
    common = {"log_level": "info", "access_log": False, **extra}  # the audit trail is the access log
    if settings.identity_mode == "proxy":
        config = uvicorn_config_behind_proxy(app, host=settings.host, port=settings.port, **common)
    else:
        ca_file = settings.ca_cert_file or settings.ca_dir / "ca.crt.pem"
        config = uvicorn_config(
            app,
            host=settings.host,
            port=settings.port,
            certfile=str(certfile),
            keyfile=str(keyfile),
            keyfile_password=settings.tls_key_passphrase,
            ca_file=str(ca_file),
            timeout_keep_alive=30,
            **common,
        )
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


@click.command()
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Server certificate chain (PEM). Default: <home>/tls/server.crt.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Server private key (PEM). Default: <home>/tls/server.key.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default DATAADGANG_WORKERS, else 1).")
@click.pass_obj
def serve(settings: Settings, certfile: Path | None, keyfile: Path | None, workers: int | None) -> None:
    """Serve the GraphQL gateway (mTLS on DATAADGANG_HOST:DATAADGANG_PORT, or plain HTTP behind a proxy)."""
    from gateway.demo import server_tls_dir

    certfile = certfile or server_tls_dir(settings) / "server.crt"
    keyfile = keyfile or server_tls_dir(settings) / "server.key"
    _require_server_tls(settings, certfile, keyfile, "run 'dataadgang pki server-cert HOST...' or 'dataadgang demo'")
    _run(settings, certfile=certfile, keyfile=keyfile, workers=workers or settings.workers)


def _require_server_tls(settings: Settings, certfile: Path, keyfile: Path, hint: str) -> None:
    """Terminating TLS ourselves needs the server's certificate and a key that loads (not behind a proxy)."""
    if settings.identity_mode == "proxy":
        return
    if not (certfile.exists() and keyfile.exists()):
        raise click.ClickException(f"No server certificate at {certfile}: {hint}.")
    check_server_key(keyfile, settings.tls_key_passphrase)


def check_server_key(keyfile: Path, passphrase: str | None) -> None:
    """Refuse to start with a key that cannot be loaded (OpenSSL would prompt on the terminal instead)."""
    data = keyfile.read_bytes()
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if encrypted and not passphrase:
        raise click.ClickException(
            f"{keyfile} is encrypted: set DATAADGANG_TLS_KEY_PASSPHRASE or DATAADGANG_TLS_KEY_PASSPHRASE_FILE"
        )
    try:
        serialization.load_pem_private_key(data, password=passphrase.encode("utf-8") if encrypted and passphrase else None)
    except (ValueError, TypeError):
        raise click.ClickException(f"cannot load the server key {keyfile}: wrong DATAADGANG_TLS_KEY_PASSPHRASE?") from None


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="Port for the portal alone.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default DATAADGANG_WORKERS, else 1).")
@click.pass_obj
def portal(settings: Settings, port: int, workers: int | None) -> None:
    """Serve only the administration portal (https://HOST:PORT/admin, mTLS), apart from the gateway."""
    from dataclasses import replace

    from gateway.demo import server_tls_dir

    certfile, keyfile = server_tls_dir(settings) / "server.crt", server_tls_dir(settings) / "server.key"
    _require_server_tls(settings, certfile, keyfile, "run 'dataadgang pki server-cert HOST...'")
    _run(replace(settings, port=port), certfile=certfile, keyfile=keyfile, workers=workers or settings.workers, portal_only=True)


@click.command()
@click.option("--rebuild", is_flag=True, help="Rebuild the demo cube databases even if they exist.")
@click.option("--no-serve", is_flag=True, help="Prepare everything and print the example, but do not serve.")
@click.option("--kommune", "kommuner", multiple=True, metavar="KODE",
              help="Build cube databases only for these kommuner (repeatable; default all 98).")
@click.pass_obj
def demo(settings: Settings, rebuild: bool, no_serve: bool, kommuner: tuple[str, ...]) -> None:
    """Demo PKI, data for all 98 kommuner, users per role, and the gateway on https://127.0.0.1:8443."""
    from gateway.data.demo import build_demo_data
    from gateway.demo import example_request, example_xmla_request, prepare_pki, prepare_users
    from gateway.registry import DatabaseRegistry
    from gateway.store.store import MetadataStore

    from gateway.model.kommuner import load_kommuner

    unknown = sorted(set(kommuner) - {k.kode for k in load_kommuner()})
    if unknown:
        raise click.BadParameter(f"not a kommune code: {', '.join(unknown)}", param_hint="--kommune")
    settings.home.mkdir(parents=True, exist_ok=True)
    say = click.echo
    say(f"dataadgang demo in {settings.home}")
    ca, certfile, keyfile = prepare_pki(settings)
    registry = DatabaseRegistry.from_settings(settings)
    if rebuild or not registry.names():
        say(f"building demo cube databases for {'kommune ' + ', '.join(kommuner) if kommuner else 'all 98 kommuner'} ...")
        names = build_demo_data(settings, progress=True, kommuner=kommuner or None)
        say(f"built {len(names)} databases")
    else:
        say(f"reusing {len(registry.names())} cube databases (--rebuild to make them anew)")
    registry.close()
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        credentials = prepare_users(settings, store, ca, say=say)
    analyst = credentials["komb-fli-prod\\kl_pri"]
    say("")
    say("Users (certificates and PKCS#12 bundles with their passwords under " f"{settings.home / 'users'}):")
    for login in credentials:
        say(f"  {login}")
    say("")
    say("Ask for København's Ukraine Statistik cube as komb-fli-prod\\kl_pri (kommune 101):")
    say("")
    say(example_request(settings, analyst))
    say("")
    say("The same user asking for Frederiksberg's database gets the uniform denial:")
    say("")
    say(example_request(settings, analyst, catalog="FLIS Ukraine-147"))
    say("")
    say("The pivot Excel asks for over XMLA (MDX, with subtotals and the grand total from the All members):")
    say("")
    say(example_xmla_request(settings, analyst))
    say("")
    if no_serve:
        return
    check_server_key(keyfile, settings.tls_key_passphrase)
    say(f"The administration portal: https://{settings.host}:{settings.port}/admin (import the officer's")
    say(f"  {settings.home / 'users' / 'k101_sikkerhed' / 'k101_sikkerhed.p12'} into the browser; password.txt beside it).")
    say(f"Serving on https://{settings.host}:{settings.port}/graphql (Ctrl-C stops).")
    _run(settings, certfile=certfile, keyfile=keyfile)


@click.command("export-sdl")
def export_sdl_command() -> None:
    """Print the GraphQL schema (SDL), as committed in schema/gateway.graphql."""
    from gateway.api.schema import export_sdl

    click.echo(export_sdl(), nl=False)
