"""Unique names: parsing with ]] escapes, and formatting back."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.names import ParsedName, key_text, member_unique_name, parse_unique_name
from gateway.errors import QueryError
from gateway.model.types import Dimension, Hierarchy, Level, bracket


def test_parses_levels_members_and_plain_names() -> None:
    assert parse_unique_name("[Tid].[Tid].[Måned].&[2022-03]") == ParsedName(("Tid", "Tid", "Måned"), "2022-03")
    assert parse_unique_name("[Køn].[Køn].&[K]") == ParsedName(("Køn", "Køn"), "K")
    assert parse_unique_name("[Measures].[Indrejste]") == ParsedName(("Measures", "Indrejste"))
    assert parse_unique_name("Akkumuleret tilvækst") == ParsedName(("Akkumuleret tilvækst",))
    assert parse_unique_name("[a]]b].&[c]]]]d]") == ParsedName(("a]b",), "c]]d")


@pytest.mark.parametrize("text", ["[a", "[a]b", "[a].[b].&[c].[d]", "[a]..[b]", "[a].&[b].&[c]", " "])
def test_malformed_names_raise_query_error(text: str) -> None:
    with pytest.raises(QueryError):
        parse_unique_name(text)


@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=4), st.text(max_size=8) | st.none())
def test_bracketing_round_trips(parts: list[str], key: str | None) -> None:
    text = ".".join(bracket(p) for p in parts) + ("" if key is None else ".&" + bracket(key))
    assert parse_unique_name(text) == ParsedName(tuple(parts), key)


def test_member_names_use_the_short_form_for_one_level_hierarchies() -> None:
    kon = Level("Køn", "koen", "koen_tekst", "koen")
    dim = Dimension("Køn", "dim_koen", "koen", "koen", (Hierarchy("Køn", (kon,)),))
    assert member_unique_name(dim, dim.hierarchies[0], kon, "K") == "[Køn].[Køn].&[K]"
    year, month = Level("År", "aar", "aar", "aar"), Level("Måned", "m", "m", "m")
    tid = Dimension("Tid", "dim_tid", "dato", "dato", (Hierarchy("Tid", (year, month)),))
    assert member_unique_name(tid, tid.hierarchies[0], month, "a]b") == "[Tid].[Tid].[Måned].&[a]]b]"


def test_key_text_is_stable_across_databases() -> None:
    assert key_text(2022) == "2022"
    assert key_text(dt.date(2022, 3, 1)) == "2022-03-01"
    assert key_text(True) == "true"
    from decimal import Decimal

    assert key_text(Decimal("7.000")) == "7"
