"""Member listing per level (ordered, paged) and parent/children navigation."""

from __future__ import annotations

import pytest
from engine_fixtures import CUBES
from sqlalchemy.engine import Connection

from gateway.engine.members import get_member, list_members, member_children, member_parent
from gateway.errors import NotFoundError, QueryError
from gateway.model.view import protected_view

UKRAINE, VH = CUBES[0], CUBES[1]


def test_members_are_listed_in_level_order_and_paged(db: Connection) -> None:
    groups = list_members(db, UKRAINE, "[Aldersgruppe].[Aldersgruppe]")
    assert [(m.key, m.caption) for m in groups] == [("barn", "0-17 år"), ("voksen", "18-64 år"), ("aeldre", "65+ år")]
    page = list_members(db, UKRAINE, "[Tid].[Tid].[Dag]", limit=3, offset=31)
    assert [m.key for m in page] == ["2022-02-01", "2022-02-02", "2022-02-03"]
    assert page[0].unique_name == "[Tid].[Tid].[Dag].&[2022-02-01]"
    assert page[0].level_depth == 3


def test_integer_keys_are_text_in_member_names(db: Connection) -> None:
    (year,) = list_members(db, UKRAINE, "[Tid].[År]")
    assert (year.key, year.caption, year.unique_name) == ("2022", "2022", "[Tid].[Tid].[År].&[2022]")


def test_parent_and_children_navigate_the_hierarchy(db: Connection) -> None:
    march = "[Tid].[Tid].[Måned].&[2022-03]"
    parent = member_parent(db, UKRAINE, march)
    assert parent is not None and parent.unique_name == "[Tid].[Tid].[Kvartal].&[2022-K1]"
    children = member_children(db, UKRAINE, march, limit=100)
    assert len(children) == 31 and children[0].key == "2022-03-01" and children[-1].key == "2022-03-31"
    assert member_parent(db, UKRAINE, "[Tid].[Tid].[År].&[2022]") is None
    assert member_children(db, UKRAINE, "[Tid].[Tid].[Dag].&[2022-03-01]") == ()
    region = member_children(db, UKRAINE, "[Fra kommune].[Fra kommune].[Region].&[Hovedstaden]")
    assert [m.caption for m in region] == ["København", "Frederiksberg"]


def test_get_member_and_unknown_member(db: Connection) -> None:
    assert get_member(db, UKRAINE, "[Køn].[Køn].&[M]").caption == "Mand"
    with pytest.raises(NotFoundError):
        get_member(db, UKRAINE, "[Køn].[Køn].&[X]")
    with pytest.raises(NotFoundError):
        member_children(db, UKRAINE, "[Tid].[Tid].[Måned].&['; drop table dim_tid; --]")


def test_person_level_members_exist_only_in_the_exact_view(db: Connection) -> None:
    with pytest.raises(NotFoundError):
        list_members(db, protected_view(VH, b"k"), "[Person].[Personnummer]")
    people = list_members(db, VH, "[Person].[Personnummer]")
    assert [m.key for m in people] == ["0101801111", "0202802222", "0303803333"]


def test_page_bounds_are_checked(db: Connection) -> None:
    with pytest.raises(QueryError):
        list_members(db, UKRAINE, "[Køn].[Køn]", limit=0)
    with pytest.raises(QueryError):
        list_members(db, UKRAINE, "[Køn].[Køn]", offset=-1)
