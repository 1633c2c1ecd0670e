"""One world and one portal server per test worker (the cube data shared with the API tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.principal import Role
from tests.admin.portal.portal_world import Person, PortalBrowser, make_person, portal_server
from tests.gateway.api.api_world import World, build_world, shared_cube_data


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[World]:
    base = tmp_path_factory.getbasetemp()
    shared_root = base if worker_id == "master" else base.parent
    with build_world(tmp_path_factory.mktemp("portal-world"), shared_cube_data(shared_root)) as built:
        yield built


@pytest.fixture(scope="session")
def portal_url(world: World) -> Iterator[str]:
    with portal_server(world) as url:
        yield url


@pytest.fixture(scope="session")
def officer(world: World) -> Person:
    return make_person(world, "101", Role.SECURITY_OFFICER, name="so")


@pytest.fixture(scope="session")
def second_officer(world: World) -> Person:
    return make_person(world, "101", Role.SECURITY_OFFICER, name="so")


@pytest.fixture
def browser_for(world: World, portal_url: str) -> Iterator:
    opened: list[PortalBrowser] = []

    def open_for(person: Person | None, *, login: bool = True) -> PortalBrowser:
        browser = PortalBrowser(world, portal_url, person)
        opened.append(browser)
        return browser.login() if login and person is not None else browser

    yield open_for
    for browser in opened:
        browser.close()


@pytest.fixture(scope="module")
def browser_for_module(world: World, portal_url: str) -> Iterator:
    """Like ``browser_for``, kept open for a whole module (hypothesis runs many examples per test)."""
    opened: list[PortalBrowser] = []

    def open_for(person: Person) -> PortalBrowser:
        browser = PortalBrowser(world, portal_url, person).login()
        opened.append(browser)
        return browser

    yield open_for
    for browser in opened:
        browser.close()
