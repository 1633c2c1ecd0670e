"""The portal's routes, one module per subject; each module declares its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from admin.portal.views import audit, auth, certificates, explain, grants, home, operations, users

if TYPE_CHECKING:
    from admin.portal.app import Portal


def routes(portal: Portal) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for module in (auth, home, users, certificates, grants, explain, audit, operations):
        found.extend(module.routes(portal))
    return found
