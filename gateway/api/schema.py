"""The GraphQL schema: ``me``, ``catalogs``, ``catalog(name)`` (Discover) and ``execute`` (Execute).

Resolvers stay thin: each asks the request's :class:`gateway.api.session.DataSession`, which is
the only way to a database and always goes through the access function first. Blocking work
(metadata store, cube databases) runs in the thread pool so the event loop keeps serving.
"""

from __future__ import annotations

import importlib
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from gateway.access import Action
from gateway.api.context import RequestContext
from gateway.api.discover import Catalog, catalog_view
from gateway.api.execute_types import CubeQueryInput, ExecuteResult
from gateway.api.me import Me, me_view
from gateway.api.results import cube_query_from_input, execute_result
from gateway.api.session import DataSession
from gateway.errors import UserError

# "Did you mean ...?" would leak names of types and fields a client did not ask about; the
# switch is graphql-core's own (module level, read at call time). ``graphql.pyutils.did_you_mean``
# as an attribute is the re-exported *function*, so the module is fetched by its import name.
importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH = 0


@strawberry.type
class Query:
    @strawberry.field(description="Who the caller is, their kommune, roles, active grants and certificate expiry.")
    async def me(self, info: Info[RequestContext, None]) -> Me:
        session = info.context.session
        return me_view(await run_in_threadpool(session.me))

    @strawberry.field(description="DBSCHEMA_CATALOGS: only the databases the caller may read.")
    async def catalogs(self, info: Info[RequestContext, None]) -> list[Catalog]:
        session = info.context.session
        opened = await run_in_threadpool(session.readable_catalogs)
        return [catalog_view(item) for item in opened]

    @strawberry.field(description="One database by name; the uniform denial if it is not readable or does not exist.")
    async def catalog(self, info: Info[RequestContext, None], name: str) -> Catalog:
        session = info.context.session
        return catalog_view(await run_in_threadpool(session.open_catalog, name))

    @strawberry.field(description="Run a cube query on a database: the cell set and the same result as a rowset.")
    async def execute(self, info: Info[RequestContext, None], catalog: str, query: CubeQueryInput) -> ExecuteResult:
        session = info.context.session
        if session.can_decide_in_memory():  # a repeated query: answered here, no thread hop
            answered = _execute_from_memory(session, catalog, query)
            if answered is not None:
                return answered
        return await run_in_threadpool(_execute, session, catalog, query)


def _execute_from_memory(session: DataSession, catalog: str, query: CubeQueryInput) -> ExecuteResult | None:
    """:func:`_execute` when access and the answer are both in memory (the same checks, in the same
    order), else None. Nothing here blocks, so it runs on the event loop."""
    opened = session.open_catalog(catalog, Action.EXECUTE)
    cellset = session.cached_query(opened, cube_query_from_input(query))
    return None if cellset is None else execute_result(opened.ref.name, cellset)


def _execute(session: DataSession, catalog: str, query: CubeQueryInput) -> ExecuteResult:
    """Access first (the uniform denial beats any complaint about the query), then the query."""
    opened = session.open_catalog(catalog, Action.EXECUTE)
    cube_query = cube_query_from_input(query)
    cellset = session.query_totals(opened, cube_query) if query.totals else session.query_catalog(opened, cube_query)
    return execute_result(opened.ref.name, cellset)


# parsed and validated documents kept by query text: BI tools repeat the same few queries
DOCUMENT_CACHE_SIZE = 1024


class GatewaySchema(strawberry.Schema):
    """Logs only what is ours to fix; client mistakes are answered, not logged as errors."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        internal = [e for e in errors if _is_internal(e)]
        if internal:
            super().process_errors(internal, execution_context)


def _is_internal(error: GraphQLError) -> bool:
    """Not a UserError, and not the client's own variables (a wrapped GraphQLError outside any field)."""
    original = error.original_error
    if original is None or isinstance(original, UserError):
        return False
    return not (isinstance(original, GraphQLError) and not error.path)


def build_schema(*, max_depth: int = 12, max_aliases: int = 15, max_tokens: int = 2000) -> GatewaySchema:
    # The rule classes are made once, so the validation cache recognises them on every request;
    # the extensions themselves are fresh per request, as Strawberry wants.
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
    ]
    return GatewaySchema(query=Query, extensions=extensions, config=StrawberryConfig(auto_camel_case=True))


def export_sdl() -> str:
    """The schema in SDL, as committed in ``schema/gateway.graphql``."""
    return build_schema().as_str() + "\n"
