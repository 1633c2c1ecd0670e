"""Certificates: issue (the .p12 offered once, its password shown once), renew, revoke with reason."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.certificates import IssuedUserCertificate, issue_user_certificate, renew_user_certificate
from admin.pki import CertificateAuthority, PKIError
from admin.pki.index import format_serial, parse_serial
from admin.revocation import REASONS, revoke_certificate
from admin.portal.session import PortalUser
from gateway.store.errors import RecordNotFoundError, ValidationError
from gateway.store.views import UserView

if TYPE_CHECKING:
    from admin.portal.app import Portal

DEFAULT_DAYS = 365


def routes(portal: Portal) -> list[BaseRoute]:
    from admin.portal.app import OFFICER

    return [
        Route("/brugere/{user_id:int}/certifikater", portal.action(*OFFICER, operation="admin.certificate.issue")(_issue), methods=["POST"]),
        Route("/certifikater/{serial}/forny", portal.action(*OFFICER, operation="admin.certificate.renew")(_renew), methods=["POST"]),
        Route("/certifikater/{serial}/tilbagekald", portal.action(*OFFICER, operation="admin.certificate.revoke")(_revoke), methods=["POST"]),
        Route("/hent/{token}", portal.page(*OFFICER, audited="admin.certificate.download")(_download), methods=["GET"]),
    ]


def _serial(request: Request) -> int:
    try:
        return parse_serial(request.path_params["serial"])
    except (ValueError, PKIError):
        raise RecordNotFoundError("no such certificate") from None


def _days(form: FormData) -> int:
    text = str(form.get("days") or DEFAULT_DAYS)
    if not text.isdigit() or not 1 <= int(text) <= DEFAULT_DAYS:
        raise ValidationError(f"validity must be 1 to {DEFAULT_DAYS} days", code="VALIDITY_DAYS")
    return int(text)


def _issue(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    days = _days(form)
    ca = CertificateAuthority.open(portal.config.ca_dir)
    with tempfile.TemporaryDirectory(prefix="dataadgang-p12-") as scratch:
        result = issue_user_certificate(portal.store, ca, user.actor, person.login, Path(scratch), valid_days=days)
        return _offer(portal, request, user, person, result, renewed=None)


def _renew(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    """A new key and certificate for the same user; the old one is revoked as superseded (the
    same service call as ``dataadgang user cert renew``)."""
    serial = _serial(request)
    old = portal.store.get_certificate(user.actor, serial)  # another kommune's: 'no such certificate'
    person = portal.store.get_user(user.actor, old.login)
    days = _days(form)
    ca = CertificateAuthority.open(portal.config.ca_dir)
    with tempfile.TemporaryDirectory(prefix="dataadgang-p12-") as scratch:
        result = renew_user_certificate(portal.store, ca, user.actor, serial, Path(scratch), valid_days=days)
        return _offer(portal, request, user, person, result.renewed, renewed=format_serial(serial))


def _offer(portal: Portal, request: Request, user: PortalUser, person: UserView, result: IssuedUserCertificate,
           renewed: str | None) -> Response:
    """The .p12 offered once for download (held server-side for this session), its password shown once."""
    content = result.bundle.pkcs12_path.read_bytes()
    filename = result.bundle.pkcs12_path.name
    token = portal.store.offer_download(user.session.id, filename=filename, content=content)
    return portal.render(
        request,
        user,
        "certificate_issued.html",
        person=person,
        issued=result.issued,
        serial=format_serial(result.issued.serial),
        password=result.password,
        download=token,
        filename=filename,
        renewed=renewed,
    )


def _revoke(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    serial = _serial(request)
    reason = str(form.get("reason") or "")
    if reason not in REASONS:
        raise ValidationError(f"choose a reason: {', '.join(sorted(REASONS))}", code="REASON_MISSING")
    view = portal.store.get_certificate(user.actor, serial)  # another kommune's: 'no such certificate'
    person = portal.store.get_user(user.actor, view.login)
    try:
        revoke_certificate(portal.store, portal.config.ca_dir, user.actor, serial, reason)
    except (PKIError, OSError):
        # the store step succeeded: the user is refused from the next request; say the CRL is behind
        return portal.error_page(request, user, 500, portal.t("certificate.crl_failed", serial=format_serial(serial)))
    return portal.redirect(request, f"/brugere/{person.id}")


def _download(portal: Portal, request: Request, user: PortalUser) -> Response:
    found = portal.store.take_download(user.actor, user.session.id, request.path_params["token"])
    if found is None:
        raise RecordNotFoundError("no such download")
    filename, content = found
    return Response(
        content,
        media_type="application/x-pkcs12",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
