"""The GraphQL schema is a stable public interface: the committed SDL must match the code."""

from __future__ import annotations

from pathlib import Path

from gateway.api.schema import export_sdl

SDL_FILE = Path(__file__).resolve().parents[3] / "schema" / "gateway.graphql"


def test_committed_sdl_matches_the_schema() -> None:
    committed = SDL_FILE.read_text(encoding="utf-8")
    assert committed == export_sdl(), (
        "schema/gateway.graphql is out of date: run 'dataadgang export-sdl > schema/gateway.graphql' "
        "and review the change (it is a public interface)"
    )


def test_schema_offers_no_mutations_or_subscriptions() -> None:
    sdl = export_sdl()
    assert "type Mutation" not in sdl
    assert "type Subscription" not in sdl
