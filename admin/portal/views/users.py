"""Users of the officer's kommune: list, create, suspend, reactivate, roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.session import PortalUser
from gateway.principal import Role
from gateway.store.errors import ValidationError

if TYPE_CHECKING:
    from admin.portal.app import Portal


def routes(portal: Portal) -> list[BaseRoute]:
    from admin.portal.app import OFFICER

    return [
        Route("/brugere", portal.page(*OFFICER)(_list), methods=["GET"]),
        Route("/brugere", portal.action(*OFFICER, operation="admin.user.add")(_create), methods=["POST"]),
        Route("/brugere/{user_id:int}", portal.page(*OFFICER)(_detail), methods=["GET"]),
        Route("/brugere/{user_id:int}/status", portal.action(*OFFICER, operation="admin.user.status")(_status), methods=["POST"]),
        Route("/brugere/{user_id:int}/roller", portal.action(*OFFICER, operation="admin.user.roles")(_roles), methods=["POST"]),
    ]


def assignable_roles(user: PortalUser) -> list[Role]:
    roles = [Role.USER, Role.SECURITY_OFFICER, Role.AUDITOR]
    return [*roles, Role.OPERATOR] if user.has(Role.OPERATOR) else roles


def _roles_from(form: FormData) -> frozenset[Role]:
    try:
        return frozenset(Role(value) for value in form.getlist("roles"))
    except ValueError:
        raise ValidationError("unknown role", code="UNKNOWN_ROLE") from None


def _list(portal: Portal, request: Request, user: PortalUser) -> Response:
    people = portal.store.list_users(user.actor)
    kommuner = [k for k in portal.store.list_kommuner(onboarded_only=True) if user.has(Role.OPERATOR) or k.kode == user.user.kommune_kode]
    return portal.render(request, user, "users.html", people=people, kommuner=kommuner, roles=assignable_roles(user))


def _create(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    kommune = str(form.get("kommune") or user.user.kommune_kode)
    created = portal.store.add_user(
        user.actor,
        kommune_kode=kommune,
        login=str(form.get("login") or ""),
        display_name=str(form.get("name") or ""),
        roles=_roles_from(form) or frozenset({Role.USER}),
    )
    return portal.redirect(request, f"/brugere/{created.id}")


def _detail(portal: Portal, request: Request, user: PortalUser) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    return portal.render(
        request,
        user,
        "user.html",
        person=person,
        certificates=portal.store.list_certificates(user.actor, person.login),
        grants=portal.store.list_grants(user.actor, login=person.login),
        areas=sorted(portal.catalog.areas),
        roles=assignable_roles(user),
        reasons=revocation_reasons(),
    )


def revocation_reasons() -> list[str]:
    from admin.revocation import REASONS

    return sorted(REASONS)


def _status(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    wanted = form.get("status")
    if wanted == "suspended":
        portal.store.suspend_user(user.actor, person.login)
    elif wanted == "active":
        portal.store.activate_user(user.actor, person.login)
    else:
        raise ValidationError("status must be 'active' or 'suspended'", code="UNKNOWN_STATUS")
    return portal.redirect(request, f"/brugere/{person.id}")


def _roles(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    person = portal.store.get_user_by_id(user.actor, request.path_params["user_id"])
    portal.store.set_roles(user.actor, person.login, _roles_from(form))
    return portal.redirect(request, f"/brugere/{person.id}")
