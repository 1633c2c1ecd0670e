"""The XMLA tests' world: the API tests' world (CA, cube data for 101 and 147, metadata store,
the gateway over mTLS), built once per test worker; the cube data is shared with the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.api.api_world import World, build_world, shared_cube_data


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[World]:
    base = tmp_path_factory.getbasetemp()
    shared_root = base if worker_id == "master" else base.parent
    with build_world(tmp_path_factory.mktemp("xmla-world"), shared_cube_data(shared_root)) as built:
        yield built
