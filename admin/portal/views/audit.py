"""The auditor's pages: search the audit trail (paged, sorted), event detail, streamed export,
reports (canned searches) and the chain's verification status. Own kommune; operators all."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import TYPE_CHECKING

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from admin.audit_review import PAGE_SIZE, REPORTS, AuditFilter, event, export_chunks, last_verification, search, verify_chain
from admin.portal.session import PortalUser
from admin.portal.views.grants import parse_day
from gateway.principal import Role
from gateway.store.errors import ValidationError

if TYPE_CHECKING:
    from admin.portal.app import Portal

AUDITORS = (Role.AUDITOR, Role.OPERATOR)
OPERATIONS = ("discover", "execute", "identity", "admin.")
FILTER_FIELDS = ("fra", "til", "login", "database", "udfald", "operation", "kommune", "rapport", "individ", "antal")
MAX_PAGE_SIZE = 500
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def routes(portal: Portal) -> list[BaseRoute]:
    return [
        Route("/revision", portal.page(*AUDITORS)(_search), methods=["GET"]),
        Route("/revision/eksport", portal.page(*AUDITORS)(_export), methods=["GET"]),
        Route("/revision/verificer", portal.action(*AUDITORS, operation="admin.audit.verify")(_verify), methods=["POST"]),
        Route("/revision/{seq:int}", portal.page(*AUDITORS)(_event), methods=["GET"]),
    ]


def audit_filter(params: QueryParams, user: PortalUser) -> AuditFilter:
    """The search form (or a report link) as a filter; dates are whole Danish days' UTC midnights."""
    report = params.get("rapport") or ""
    if report and report not in REPORTS:
        raise ValidationError(f"unknown report '{report}'")
    base = REPORTS.get(report, AuditFilter())
    until = parse_day(params.get("til"), "to")
    return AuditFilter(
        since=parse_day(params.get("fra"), "from") or base.since,
        until=(until + dt.timedelta(days=1)) if until else base.until,  # 'til' is inclusive in the form
        login=params.get("login") or base.login,
        database=params.get("database") or base.database,
        outcome=params.get("udfald") or base.outcome,
        operation=params.get("operation") or base.operation,
        kommune_kode=(params.get("kommune") or None) if user.has(Role.OPERATOR) else None,
        individual=params.get("individ") == "1" or base.individual,
    )


def _query(params: QueryParams, **changes: str) -> str:
    kept = {key: params[key] for key in (*FILTER_FIELDS, "orden") if params.get(key)}
    kept.update(changes)
    return urllib.parse.urlencode(kept)


def _search(portal: Portal, request: Request, user: PortalUser) -> Response:
    params = request.query_params
    wanted = audit_filter(params, user)
    newest_first = params.get("orden", "nyeste") != "aeldste"
    after_text = params.get("efter") or ""
    if after_text and not after_text.isdigit():
        raise ValidationError("'efter' must be an event number")
    size_text = params.get("antal") or str(PAGE_SIZE)
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
        raise ValidationError(f"'antal' must be 1 to {MAX_PAGE_SIZE} events per page")
    page = search(
        portal.store, user.actor, wanted, newest_first=newest_first, after=int(after_text) if after_text else None,
        page_size=int(size_text),
    )
    return portal.render(
        request,
        user,
        "audit.html",
        params=params,
        page=page,
        operations=OPERATIONS,
        reports=list(REPORTS),
        chain=last_verification(portal.store, user.actor),
        next_query=_query(params, efter=str(page.next_after)) if page.next_after else None,
        export_query={fmt: _query(params, format=fmt) for fmt in MEDIA_TYPES},
    )


def _event(portal: Portal, request: Request, user: PortalUser) -> Response:
    record = event(portal.store, user.actor, request.path_params["seq"])
    return portal.render(request, user, "audit_event.html", record=record, fields=record.as_dict())


def _export(portal: Portal, request: Request, user: PortalUser) -> Response:
    fmt = request.query_params.get("format", "")
    if fmt not in MEDIA_TYPES:
        raise ValidationError("format must be csv or jsonl")
    chunks = export_chunks(portal.store, user.actor, audit_filter(request.query_params, user), fmt)
    first = next(chunks)  # errors (scope, filter) surface here, before the response starts

    def stream():  # type: ignore[no-untyped-def]
        yield first
        yield from chunks

    stamp = portal.store.now().strftime("%Y%m%dT%H%M%S")
    return StreamingResponse(
        stream(),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="revisionsspor-{stamp}.{fmt}"'},
    )


def _verify(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    verify_chain(portal.store, user.actor)
    return portal.redirect(request, "/revision")
