"""The daily refresh as a user sees it: ``dataadgang refresh`` swaps the KL Databank in, a
refused file leaves the old version serving and the catalog says so, and a scheduled client's
conditional download fetches the package again only once the data changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import World, build_world, gql_data
from click.testing import CliRunner

from gateway.cli import main

KL = "FLIS KL Databank"
CATALOGS = "{ catalogs { name dataAsOf refresh { version updatedAt lastAttempt status } } }"


@pytest.fixture(scope="module")
def refresh_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("refresh-world")
    data = root / "data-home" / "data"
    data.mkdir(parents=True)
    (data.parent / "built").write_text("", encoding="utf-8")
    with build_world(root / "world", data) as world:
        yield world


def _refresh(world: World) -> Any:
    return CliRunner().invoke(main, ["--home", str(world.settings.home), "refresh"])


def _kl(client: Any) -> dict[str, Any]:
    return next(c for c in gql_data(client, CATALOGS)["catalogs"] if c["name"] == KL)


def test_refresh_status_and_conditional_downloads_follow_the_data(refresh_world: World) -> None:
    world = refresh_world
    drop = world.settings.home / "drop"
    made = CliRunner().invoke(main, ["generate", str(drop), "--area", "kl_databank", "--kommune", "101",
                                     "--as-of", "2024-01-31", "--format", "csv"])
    assert made.exit_code == 0, made.output
    assert _refresh(world).exit_code == 0
    user = world.new_user("101", [("kl_databank", "aggregated")], prefix="refresh")
    with world.client(user) as client:
        fresh = _kl(client)
        assert fresh["dataAsOf"] == "2024-01-31"
        assert fresh["refresh"]["version"] == 1 and fresh["refresh"]["status"] == "CURRENT"
        assert fresh["refresh"]["lastAttempt"] is not None and fresh["refresh"]["updatedAt"] is not None
        first = client.get("/datapakker/kl_databank")
        assert first.status_code == 200
        etag = first.headers["etag"]

        source = drop / "kl_databank" / "benchmark" / "kl_databank.csv"
        good = source.read_bytes()
        source.write_bytes(good + b"10121\t2022\tnot a date\t101\tK\xc3\xb8benhavn\t1\t1\t1\n")
        failed = _refresh(world)
        assert failed.exit_code == 1 and f"FAILED     {KL}" in failed.output
        stale = _kl(client)
        assert stale["refresh"]["status"] == "LAST_REFRESH_FAILED"
        assert stale["refresh"]["version"] == 1 and stale["dataAsOf"] == "2024-01-31"
        assert client.get("/datapakker/kl_databank", headers={"if-none-match": etag}).status_code == 304

        source.write_bytes(good)
        (source.parent / "manifest.json").write_text(json.dumps({"data_as_of": "2024-02-01"}), encoding="utf-8")
        assert _refresh(world).exit_code == 0
        current = _kl(client)
        assert current["refresh"]["version"] == 2 and current["refresh"]["status"] == "CURRENT"
        assert current["dataAsOf"] == "2024-02-01"
        changed = client.get("/datapakker/kl_databank", headers={"if-none-match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert "DSA-101-844-20240201-" in changed.headers["content-disposition"]
