"""Grants of data areas: add (purpose, validity, level), approve (four-eyes), revoke, and the
lists that need an officer's attention: awaiting approval, and expiring within 30 days."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.session import PortalUser
from gateway.store.errors import ValidationError

if TYPE_CHECKING:
    from admin.portal.app import Portal

RECERTIFICATION_WINDOW = dt.timedelta(days=30)


def routes(portal: Portal) -> list[BaseRoute]:
    from admin.portal.app import OFFICER

    return [
        Route("/tildelinger", portal.page(*OFFICER)(_overview), methods=["GET"]),
        Route("/brugere/{user_id:int}/tildelinger", portal.action(*OFFICER, operation="admin.grant.add")(_add), methods=["POST"]),
        Route("/tildelinger/{grant_id:int}/godkend", portal.action(*OFFICER, operation="admin.grant.approve")(_approve), methods=["POST"]),
        Route("/tildelinger/{grant_id:int}/tilbagekald", portal.action(*OFFICER, operation="admin.grant.revoke")(_revoke), methods=["POST"]),
    ]


def parse_day(text: object, field: str) -> dt.datetime | None:
    """A date from an <input type=date> (YYYY-MM-DD), as midnight UTC; empty is None."""
    if text in (None, ""):
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(str(text)), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise ValidationError(f"{field} must be a date (YYYY-MM-DD)", code="DATE_FORMAT") from None


def _overview(portal: Portal, request: Request, user: PortalUser) -> Response:
    return portal.render(
        request,
        user,
        "grants.html",
        awaiting=portal.store.list_grants(user.actor, awaiting_approval=True),
        expiring=portal.store.list_grants(user.actor, expiring_within=RECERTIFICATION_WINDOW),
    )


def _add(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    portal.store.add_grant(
        user.actor,
        login=person.login,
        area=str(form.get("area") or ""),
        valid_areas=portal.catalog.areas,
        purpose=str(form.get("purpose") or ""),
        level=str(form.get("level") or "aggregated"),
        valid_from=parse_day(form.get("valid_from"), "valid from"),
        valid_to=parse_day(form.get("valid_to"), "valid to"),
    )
    return portal.redirect(request, f"/brugere/{person.id}")


def _approve(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    grant = portal.store.approve_grant(user.actor, request.path_params["grant_id"])
    return portal.redirect(request, f"/brugere/{grant.user_id}")


def _revoke(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    grant = portal.store.revoke_grant(user.actor, request.path_params["grant_id"])
    return portal.redirect(request, f"/brugere/{grant.user_id}")
