"""MDX: the query language Excel PivotTables and Power BI send over XMLA.

Text is parsed by a lark grammar (``grammar.lark``, ``parser.py``) into an AST (``ast.py``),
bound against the caller's pruned cube model (``bind.py``), and its cells computed through the
same engine as GraphQL, one statement per grain (``cells.py``). ``result.py`` holds the answer
the XMLA writer renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING

from gateway.access import Action
from gateway.mdx.bind import Binder
from gateway.mdx.execute import cube_name, execute_select
from gateway.mdx.members import MemberReader
from gateway.mdx.parser import parse_query
from gateway.mdx.result import MdxResult

if TYPE_CHECKING:
    from gateway.api.session import DataSession, OpenCatalog
    from gateway.mdx.ast import Select
    from gateway.model.types import Cube

__all__ = ["MdxResult", "run_mdx"]


def run_mdx(
    session: DataSession, catalog_name: str, text: str, *, properties: Mapping[str, str] | None = None
) -> MdxResult:
    """Parse, bind and run one MDX statement against a database the caller may read.

    Access, limits, caching and audit are the session's: the catalog is opened through
    :meth:`DataSession.open_catalog` (the uniform denial for anything not readable), member
    navigation reads through its connection, every cell comes from :meth:`DataSession.query_catalog`, and
    the whole answer is remembered per database version and statement text
    (:meth:`DataSession.remembered`). ``properties`` are the XMLA Execute properties; none changes the answer today.
    """
    select = parse_query(text)
    catalog = session.open_catalog(catalog_name, Action.EXECUTE)
    cube = catalog.cube(cube_name(select, catalog.ref.name))
    return session.remembered(catalog, ("mdx", text), lambda: _run(session, catalog, cube, select))


def _run(session: DataSession, catalog: OpenCatalog, cube: Cube, select: Select) -> MdxResult:
    with ExitStack() as stack:  # a connection is opened only if a member list is not remembered
        reader = MemberReader(
            lambda: stack.enter_context(session.member_connection(catalog)),
            cube,
            memo=session.version_memo,
            version=catalog.registered.identity,
            on_read=lambda level: session.note_member_read(catalog, level),
        )
        binder = Binder(cube, reader, lambda query: session.query_catalog(catalog, query))
        return execute_select(
            select, binder, catalog=catalog.ref.name, cell_limit=session.cell_limit, data_as_of=catalog.data_as_of
        )
