"""What a user sees of the daily refresh: how fresh a database is and whether the last try failed."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from gateway.api.session import RefreshState


@strawberry.enum(description="How the last refresh of a database went.")
class RefreshStatus(Enum):
    CURRENT = "current"  # the version serving is the newest the refresh built (or it was loaded by hand)
    LAST_REFRESH_FAILED = "last_refresh_failed"  # newer source files were refused: older data keeps serving


@strawberry.type(description="The version serving and the daily refresh's last attempt at the database.")
class CatalogRefresh:
    version: int
    updated_at: dt.datetime | None = strawberry.field(description="When the version serving was built (UTC).")
    last_attempt: dt.datetime | None = strawberry.field(
        description="When the refresh last tried to update the database (UTC); null if it never has."
    )
    status: RefreshStatus

    @staticmethod
    def of(state: RefreshState) -> CatalogRefresh:
        return CatalogRefresh(
            version=state.version,
            updated_at=state.updated_at,
            last_attempt=state.last_attempt,
            status=RefreshStatus.LAST_REFRESH_FAILED if state.failed else RefreshStatus.CURRENT,
        )
