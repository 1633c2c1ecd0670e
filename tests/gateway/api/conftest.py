"""The session's world for the API tests (see api_world.py): one per test worker, the cube data
built once for all workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_world import World, build_world, shared_cube_data


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[World]:
    base = tmp_path_factory.getbasetemp()
    shared_root = base if worker_id == "master" else base.parent  # the parent is common to all xdist workers
    with build_world(tmp_path_factory.mktemp("api-world"), shared_cube_data(shared_root)) as built:
        yield built
