"""The query engine: cube query → validated plan → one SQLAlchemy Core statement → cell set.

Knows the cube model and SQLAlchemy, nothing of GraphQL. The API builds a ``CubeQuery`` and
calls ``run_query`` (or the ``members`` functions for Discover) with a connection from the
registry.
"""

from __future__ import annotations

from gateway.engine.cellset import Axis, Cell, CellSet, Member, Rowset, RowsetColumn, Tuple
from gateway.engine.execute import Limits, run_query
from gateway.engine.members import get_member, list_members, member_children, member_parent
from gateway.engine.query import CubeQuery, LevelItem, MemberSetItem, Order

__all__ = [
    "Axis",
    "Cell",
    "CellSet",
    "CubeQuery",
    "LevelItem",
    "Limits",
    "Member",
    "MemberSetItem",
    "Order",
    "Rowset",
    "RowsetColumn",
    "Tuple",
    "get_member",
    "list_members",
    "member_children",
    "member_parent",
    "run_query",
]
