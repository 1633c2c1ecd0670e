"""Compiled statements are kept per plan shape, and never shared between two cubes, views or keys."""

from __future__ import annotations

import dataclasses

from engine_fixtures import CUBES, ukraine_cube
from sqlalchemy.engine import Connection

from gateway.engine.disclosure import Protection
from gateway.engine.execute import Limits, run_query
from gateway.engine.plan import plan_query
from gateway.engine.query import CubeQuery, LevelItem
from gateway.engine.statements import StatementCache
from gateway.model.types import DisclosureRule
from gateway.model.view import exact_view, protected_view

BY_SEX = CubeQuery("Ukraine", ("Indrejste", "Udrejste"), rows=(LevelItem("[Køn].[Køn]"),))


def _compiled(db: Connection, cache: StatementCache, cubes: tuple, query: CubeQuery = BY_SEX):  # type: ignore[no-untyped-def]
    """As the engine compiles: a protected plan widened by its cell key."""
    plan = plan_query(db, cubes, query, cell_limit=10_000)
    protection = Protection.for_plan(plan)
    return cache.compiled(db, plan if protection is None else protection.widened)


def test_the_same_question_compiles_once(db: Connection) -> None:
    cache = StatementCache()
    first = _compiled(db, cache, CUBES)
    second = _compiled(db, cache, CUBES)
    assert first is second
    assert len(cache) == 1


def test_other_member_keys_are_another_entry_with_their_own_parameters(db: Connection) -> None:
    cache = StatementCache()
    women = _compiled(db, cache, CUBES, dataclasses.replace(BY_SEX, slicers=("[Tid].[Tid].[Måned].&[2022-03]",)))
    men = _compiled(db, cache, CUBES, dataclasses.replace(BY_SEX, slicers=("[Tid].[Tid].[Måned].&[2022-04]",)))
    assert women is not men
    values = [women.parameters, men.parameters]
    flat = [list(v.values()) if isinstance(v, dict) else list(v) for v in values]
    assert "2022-03" in flat[0] and "2022-04" in flat[1] and "2022-04" not in flat[0]


def test_an_exact_and_a_protected_view_of_one_cube_never_share_a_statement(db: Connection) -> None:
    """The same cube name, the same question: the protected view's statement carries the cell key."""
    rule = DisclosureRule(record_key=("fra_kommune", "til_kommune", "dato"), distinct=False, threshold=3, max_noise=2)
    modelled = dataclasses.replace(ukraine_cube(), disclosure=rule)
    cache = StatementCache()
    exact = _compiled(db, cache, (exact_view(modelled),))
    protected = _compiled(db, cache, (protected_view(modelled, b"key one"),))
    assert exact is not protected
    assert "hash" in protected.sql.lower() and "hash" not in exact.sql.lower()
    other_key = _compiled(db, cache, (protected_view(modelled, b"key two"),))
    assert other_key is not protected  # another deployment's view is another cube object
    assert len(cache) == 3


def test_two_catalogs_with_a_cube_of_the_same_name_never_share_a_statement(db: Connection) -> None:
    """Another catalog's 'Ukraine' reads another fact table: equal names, equal question, other SQL."""
    cache = StatementCache()
    ours = _compiled(db, cache, CUBES)
    theirs_cube = dataclasses.replace(ukraine_cube(), fact_table="haendelser_andre")
    theirs = _compiled(db, cache, (theirs_cube,))
    assert ours is not theirs
    assert "haendelser_andre" in theirs.sql and "haendelser_andre" not in ours.sql


def test_answers_through_the_kept_statement_equal_the_first_answer(db: Connection) -> None:
    limits = Limits(10_000, 30)
    query = CubeQuery("Ukraine", ("Indrejste",), columns=(LevelItem("[Køn].[Køn]"),),
                      rows=(LevelItem("[Tid].[Tid].[Måned]"),), slicers=("[Aldersgruppe].[Aldersgruppe].&[voksen]",))
    first = run_query(db, CUBES, query, limits=limits)
    again = run_query(db, CUBES, query, limits=limits)
    assert [c.value for c in first.cells] == [c.value for c in again.cells]
    other = run_query(db, CUBES, dataclasses.replace(query, slicers=("[Aldersgruppe].[Aldersgruppe].&[barn]",)),
                      limits=limits)
    assert [c.value for c in other.cells] != [c.value for c in first.cells]
