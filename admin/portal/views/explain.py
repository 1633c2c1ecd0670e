"""Explain access: for a user of the kommune and one of its (or a benchmark) databases, the rule
that allows or denies it, from the gateway's own decision function."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.access_explain import databases_for_user, explain_access
from admin.portal.session import PortalUser
from gateway.store.errors import RecordNotFoundError

if TYPE_CHECKING:
    from admin.portal.app import Portal


def routes(portal: Portal) -> list[BaseRoute]:
    from admin.portal.app import OFFICER

    return [Route("/brugere/{user_id:int}/adgang", portal.page(*OFFICER)(_explain), methods=["GET"])]


def _explain(portal: Portal, request: Request, user: PortalUser) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    database = request.query_params.get("database")
    explanation = None
    unknown = False
    if database:
        try:
            explanation = explain_access(
                portal.store, portal.catalog, user.actor, user_id=person.id, database=database, registry=portal.registry
            )
        except RecordNotFoundError:
            unknown = True  # the same for a database of another kommune and one that does not exist
    return portal.render(
        request,
        user,
        "explain.html",
        person=person,
        databases=databases_for_user(portal.catalog, person),
        chosen=database or "",
        explanation=explanation,
        unknown=unknown,
    )
