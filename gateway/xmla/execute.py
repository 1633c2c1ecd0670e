"""Execute: an empty statement (session keep-alive), a DMV query over a Discover rowset, or MDX.

MDX goes to :func:`gateway.mdx.run_mdx` (parse, bind against the caller's pruned cubes, the
engine); its answer is written as an ``mddataset`` (``Format=Multidimensional``, the default)
or flattened into a rowset (``Format=Tabular``).
"""

from __future__ import annotations


from gateway.access import Action
from gateway.mdx import run_mdx
from gateway.mdx.parser import parse_query
from gateway.model.catalog import name_key
from gateway.xmla import writer
from gateway.xmla.discover import DiscoverContext, columns_of, discover
from gateway.xmla.dmv import is_dmv, parse_dmv
from gateway.xmla.rowsets import BY_NAME
from gateway.xmla.soap import XmlaClientError

FORMATS = ("Multidimensional", "Tabular", "Native")


def execute(context: DiscoverContext, statement: str) -> str:
    if not statement.strip():
        return writer.empty_root()
    if is_dmv(statement):
        return _dmv(context, statement)
    return _mdx(context, statement)


def _format(context: DiscoverContext) -> str:
    requested = (context.properties.get("Format") or "Native").strip()
    for known in FORMATS:
        if name_key(known) == name_key(requested):
            return known
    raise XmlaClientError(f"The Format '{requested[:50]}' is not supported; use Multidimensional or Tabular.")


def _mdx(context: DiscoverContext, statement: str) -> str:
    output = _format(context)
    # run_mdx remembers the answer per database version (DataSession.remembered), after access
    result = run_mdx(context.session, _catalog(context, statement), statement, properties=dict(context.properties))
    if output == "Tabular":
        columns, rows = writer.mddataset_as_rowset(result)
        return writer.rowset(columns, rows)
    return writer.mddataset(result)


def _catalog(context: DiscoverContext, statement: str) -> str:
    """The database the statement reads: the ``Catalog`` property, checked against ``FROM``.

    ``FROM [database].[cube]`` or, without a Catalog property, ``FROM [database]`` names a
    database: it passes the same gate as the property, so a foreign or missing one is the
    uniform denial wherever it is written.
    """
    catalog = (context.properties.get("Catalog") or "").strip() or None
    source = _from_segments(statement)
    named = source[0] if len(source) == 2 or (catalog is None and len(source) == 1) else None
    if named is not None and (catalog is None or name_key(named) != name_key(catalog)):
        context.session.open_catalog(named, Action.EXECUTE)  # the uniform denial unless readable
        if catalog is None and len(source) == 1:
            raise XmlaClientError(
                f"FROM names the database '{named}': set the Catalog property (the connection's database) "
                "and name a cube in FROM."
            )
        catalog = catalog or named
    if catalog is None:
        raise XmlaClientError("Set the Catalog property (the connection's database) to run MDX.")
    return catalog


def _from_segments(statement: str) -> tuple[str, ...]:
    name = parse_query(statement).cube_name
    return tuple(segment.text for segment in name.segments)


def _dmv(context: DiscoverContext, statement: str) -> str:
    query = parse_dmv(statement)
    rowset_def = BY_NAME.get(query.rowset)
    if rowset_def is None:
        raise XmlaClientError(f"The rowset '$system.{query.rowset[:100]}' is not offered.")
    columns = columns_of(rowset_def, query.columns)
    restriction_names = {name_key(r.name): r.name for r in rowset_def.restrictions}
    restrictions: dict[str, list[str]] = {}
    filters: list[tuple[str, str]] = []
    for column, value in query.conditions:
        restriction = restriction_names.get(name_key(column))
        if restriction is not None:
            restrictions.setdefault(restriction, []).append(value)
        else:
            columns_of(rowset_def, [column])  # an unknown column is an error, not an empty answer
            filters.append((column, value))
    scoped = DiscoverContext(
        session=context.session,
        restrictions={name: tuple(values) for name, values in restrictions.items()},
        properties=context.properties,
        server_url=context.server_url,
    )
    _, rows = discover(scoped, query.rowset)
    for column, value in filters:
        real = columns_of(rowset_def, [column])[0].name
        rows = [row for row in rows if row.get(real) is not None and name_key(str(row[real])) == name_key(value)]
    for column, descending in reversed(query.order):
        real = columns_of(rowset_def, [column])[0].name
        present = [row for row in rows if row.get(real) is not None]
        missing = [row for row in rows if row.get(real) is None]
        present.sort(key=lambda row: _sort_key(row[real]), reverse=descending)
        rows = present + missing
    return writer.rowset(columns, rows)


def _sort_key(value: object) -> tuple[int, object]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, name_key(str(value)))
