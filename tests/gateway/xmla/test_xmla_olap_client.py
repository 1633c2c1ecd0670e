"""A third-party XMLA client from PyPI talks to the gateway over real mTLS.

``netas-xmla-with-dax`` is the maintained Python 3 fork of olap.xmla (the original ``xmla``
0.7.2 is Python 2 only: it needs ``requests==1.2.3`` and ``suds``). It speaks SOAP through zeep
from its own WSDL; the only thing given to it here is a requests session whose TLS context
presents the user's client certificate (requests cannot load an encrypted key by itself).
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.gateway.api.api_world import ApiUser, World

with warnings.catch_warnings():  # zeep imports 'cgi', olap.xmla 'pkg_resources': both deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    from olap.xmla import xmla
    from olap.xmla.interfaces import XMLAException

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")


class _ClientCertificateAdapter(HTTPAdapter):
    """requests' transport with our TLS context: the CA for the server, the user's certificate."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def _session(world: World, user: ApiUser) -> requests.Session:
    session = requests.Session()
    session.mount("https://", _ClientCertificateAdapter(user.ssl_context(world.ca_file)))
    session.verify = str(world.ca_file)
    return session


@pytest.fixture
def connect(world: World) -> Iterator[Any]:
    sessions: list[requests.Session] = []

    def _connect(user: ApiUser, path: str = "/xmla") -> Any:
        session = _session(world, user)
        sessions.append(session)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return xmla.XMLAProvider().connect(location=world.url + path, session=session)

    yield _connect
    for session in sessions:
        session.close()


def test_lists_catalogs_and_cubes_and_runs_mdx(world: World, connect: Any) -> None:
    user = world.user("exact101")
    source = connect(user)
    names = {catalog.getUniqueName() for catalog in source.getCatalogs()}
    assert "FLIS Ukraine-101" in names
    assert not any(name.endswith("-147") for name in names)
    catalog = source.getCatalog("FLIS Ukraine-101")
    cubes = [cube.getUniqueName() for cube in catalog.getCubes()]
    assert cubes == ["Ukraine Statistik"]
    cube = catalog.getCube("Ukraine Statistik")
    measures = [m.getUniqueName() for m in cube.getMeasures()]
    assert "[Measures].[Indrejste]" in measures
    hierarchies = {h.getUniqueName() for h in cube.getHierarchies()}
    assert "[Køn].[Køn]" in hierarchies

    result = catalog.query(
        "SELECT {[Measures].[Indrejste]} ON COLUMNS, [Køn].[Køn].[Køn].Members ON ROWS FROM [Ukraine Statistik]"
    )
    rows = result.getAxisTuple(1)
    captions = [t["Caption"] for t in rows]
    assert sorted(captions) == ["Kvinde", "Mand"]
    # one column, so the cell of row i has ordinal i (XMLA numbers cells with axis 0 fastest)
    values = [int(result.getCellByOrdinal(i).Value) for i in range(len(rows))]
    expected = world.oracle("FLIS Ukraine-101", "select sum(indrejst) from haendelser")
    assert sum(values) == expected


def test_the_bare_server_url_works_too(world: World, connect: Any) -> None:
    source = connect(world.user("exact101"), path="/")
    assert "FLIS Ukraine-101" in {c.getUniqueName() for c in source.getCatalogs()}


def test_a_foreign_database_is_the_uniform_denial(world: World, connect: Any) -> None:
    user = world.user("exact101")
    source = connect(user)
    with pytest.raises(XMLAException) as denied:
        source.getCatalog("FLIS Ukraine-147").getCubes()
    with pytest.raises(XMLAException) as missing:
        source.getCatalog("FLIS Ukraine-999").getCubes()
    for raised, database in ((denied, "FLIS Ukraine-147"), (missing, "FLIS Ukraine-999")):
        assert raised.value.args[0] == (
            f"Either the user, '{user.login}', does not have access to the '{database}' database, "
            "or the database does not exist."
        )


def test_sessions_begin_and_end(world: World, connect: Any) -> None:
    source = connect(world.user("exact101"))
    source.BeginSession()
    assert source.sessionId
    assert "FLIS Ukraine-101" in {c.getUniqueName() for c in source.getCatalogs()}
    source.EndSession()
