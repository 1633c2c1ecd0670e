"""``me``: the caller as the gateway sees them, so a user can check their own setup."""

from __future__ import annotations

import datetime as dt

import strawberry

from gateway.api.discover import Kommune
from gateway.api.session import Caller


@strawberry.type(description="An active grant of a data area (dataområde).")
class Grant:
    data_area: str
    level: str = strawberry.field(description="'aggregated' or 'individual' (person-level detail).")
    valid_from: dt.datetime
    valid_to: dt.datetime | None


@strawberry.type(description="The caller, as identified by their client certificate.")
class Me:
    login: str
    kommune: Kommune
    roles: list[str]
    grants: list[Grant]
    certificate_fingerprint: str
    certificate_expires: dt.datetime


def me_view(caller: Caller) -> Me:
    kommune = caller.kommune
    return Me(
        login=caller.login,
        kommune=Kommune(kode=kommune.kode, navn=kommune.navn, region=kommune.region),
        roles=list(caller.roles),
        grants=[Grant(data_area=g.area, level=g.level, valid_from=g.valid_from, valid_to=g.valid_to) for g in caller.grants],
        certificate_fingerprint=caller.certificate_fingerprint,
        certificate_expires=caller.certificate_expires,
    )
