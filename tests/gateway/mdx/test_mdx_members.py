"""Member lists as MDX reads them: hierarchical order, paths, child counts, and the version memo."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from gateway.engine.cache import VersionMemo
from gateway.mdx.members import HierarchyRef, MemberReader
from tests.gateway.engine.engine_fixtures import ukraine_cube

CUBE = ukraine_cube()
TID = HierarchyRef(CUBE.dimensions[0], CUBE.dimensions[0].hierarchies[0])


def test_levels_come_in_hierarchical_order_with_paths_and_child_counts(db: Connection) -> None:
    reader = MemberReader(lambda: db, CUBE)
    quarters = reader.level(TID.level(1))
    assert [q.path for q in quarters] == [("2022", "2022-K1"), ("2022", "2022-K2")]
    assert [q.children for q in quarters] == [3, 1]  # the fixture's days run to April
    assert quarters[0].parent_unique_name == "[Tid].[Tid].[År].&[2022]"
    all_member = reader.all_member(TID)
    assert all_member.children == 1 and reader.children(all_member) == reader.level(TID.level(0))
    months = reader.children(quarters[0])
    assert [m.caption for m in months] == ["januar 2022", "februar 2022", "marts 2022"]
    assert reader.parent(months[0]) == quarters[0]
    assert len(reader.descendants_at(quarters[1], 3)) == 30  # the days of April


def test_restrictions_keep_only_members_under_the_filter(db: Connection) -> None:
    month = TID.level(2)
    reader = MemberReader(lambda: db, CUBE, restrictions={"Tid": [(month, frozenset({"2022-02", "2022-04"}))]})
    assert [q.key for q in reader.level(TID.level(1))] == ["2022-K1", "2022-K2"]
    assert [q.children for q in reader.level(TID.level(1))] == [1, 1]
    assert reader.lookup(TID.level(2), "2022-01") is not None  # names resolve outside the filter


def test_the_version_memo_saves_every_statement_of_a_repeated_read(duck: Connection) -> None:
    memo = VersionMemo()
    first = MemberReader(lambda: duck, CUBE, memo=memo, version=("fixture", 1))
    first.level(TID.level(2))
    first.all_member(TID)
    assert first.statements == 2  # the months, and every hierarchy's top-level count in one statement

    opened: list[int] = []
    second = MemberReader(lambda: opened.append(1) or duck, CUBE, memo=memo, version=("fixture", 1))
    assert second.level(TID.level(2)) == first.level(TID.level(2))
    assert second.all_member(TID).children == 1
    assert second.statements == 0 and opened == []  # no connection was even opened
    other_version = MemberReader(lambda: duck, CUBE, memo=memo, version=("fixture", 2))
    other_version.level(TID.level(2))
    assert other_version.statements == 1
