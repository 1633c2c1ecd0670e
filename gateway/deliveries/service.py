"""Datapakker as service calls over a :class:`DataSession`: what may I fetch, give me one.

Nothing here decides access: the list comes from ``readable_catalogs`` and a download from
``DataSession.query`` (``open_catalog`` with the execute action, then the engine), so a
package of a database the caller may not read gets the session's uniform denial, and a
package that does not exist is turned into the very same denial here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.deliveries.danish_csv import csv_bytes
from gateway.deliveries.packages import PACKAGES, Package, Rows, find_package
from gateway.deliveries.zipstream import zip_chunks
from gateway.engine.cellset import CellSet
from gateway.engine.execute import Limits, run_query
from gateway.access import Action
from gateway.errors import AccessDeniedError, UserError
from gateway.model import Catalog
from gateway.registry import DatabaseRegistry, RegisteredDatabase

if TYPE_CHECKING:
    from gateway.api.session import DataSession


@dataclass(frozen=True, slots=True)
class PackageVersion:
    """One package as one caller gets it from one database version."""

    package: Package
    kommune_kode: str
    data_as_of: dt.date | None
    built_at: dt.datetime | None
    etag: str  # a strong validator: same version, same layout, same kommune -> same bytes

    @property
    def file_name(self) -> str:
        return self.package.file_stem(self.kommune_kode, self.data_as_of, self.built_at) + ".zip"

    @property
    def last_modified(self) -> dt.datetime | None:
        return self.built_at.astimezone(dt.UTC).replace(microsecond=0) if self.built_at else None


@dataclass(frozen=True, slots=True)
class PackageFile:
    """A package's rows, read and put in the published order before the audit event is written;
    only the CSV text and the zip are made while the bytes are sent."""

    version: PackageVersion
    rows: Rows
    cells: int

    @classmethod
    def of(cls, version: PackageVersion, cellset: CellSet) -> PackageFile:
        return cls(version, version.package.rows(cellset), len(cellset.cells))

    def zip_chunks(self) -> Iterator[bytes]:
        package = self.version.package
        csv_name = package.file_stem(self.version.kommune_kode, self.version.data_as_of, self.version.built_at) + ".csv"
        content = csv_bytes(package.header, self.rows)
        return zip_chunks([(csv_name, content)], modified=self.version.last_modified)


def _version(package: Package, kommune_kode: str, registered: RegisteredDatabase) -> PackageVersion:
    identity = "|".join(str(part) for part in (*registered.identity, package.id, package.layout_version, kommune_kode))
    etag = '"' + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32] + '"'
    return PackageVersion(package, kommune_kode, registered.data_as_of, registered.built_at, etag)


def list_packages(session: DataSession, kommune_kode: str) -> list[PackageVersion]:
    """The packages of databases the caller may read (and that are loaded)."""
    readable = {catalog.ref.name: catalog for catalog in session.readable_catalogs()}
    return [
        _version(package, kommune_kode, readable[package.database].registered)
        for package in PACKAGES
        if package.database in readable
    ]


def package_version(session: DataSession, package_id: str, kommune_kode: str, login: str) -> PackageVersion:
    """The package's current version (for conditional requests), after the access decision.

    An unknown package raises the same denial as a forbidden one, naming what the caller asked for.
    """
    package = _known(package_id, login)
    catalog = session.open_catalog(package.database)
    return _version(package, kommune_kode, catalog.registered)


def read_package(session: DataSession, package_id: str, kommune_kode: str, login: str) -> PackageFile:
    """The package's data through the engine, for one caller: access decided, cells counted."""
    package = _known(package_id, login)
    catalog = session.open_catalog(package.database, Action.EXECUTE)
    cellset = session.query_catalog(catalog, package.query())
    return PackageFile.of(_version(package, kommune_kode, catalog.registered), cellset)


def _known(package_id: str, login: str) -> Package:
    package = find_package(package_id)
    if package is None:
        raise AccessDeniedError(login, package_id)
    return package


def operator_package(
    catalog: Catalog, registry: DatabaseRegistry, limits: Limits, package_id: str, kommune_kode: str
) -> PackageFile:
    """The package as an operator exports it from the shell (``dataadgang datapakke export``).

    Operators hold no certificate and no grant: whoever has a shell on the server may read the
    cube files anyway. The package is read by the same engine query and rendered by the same
    code as a download, at the aggregated level, so the file is the one a user would get.
    """
    package = find_package(package_id)
    if package is None:
        known = ", ".join(f"{p.id} ({p.number})" for p in PACKAGES)
        raise UserError(f"no data package '{package_id}'; there are: {known}")
    if kommune_kode not in catalog.kommuner:
        raise UserError(f"no kommune with code '{kommune_kode}'")
    ref = catalog.resolve_database(package.database)
    registered = registry.get(package.database)
    if ref is None or registered is None:
        raise UserError(f"the database '{package.database}' is not loaded; run 'dataadgang load' or 'dataadgang refresh'")
    with registry.connect(registered) as connection:
        cellset = run_query(
            connection, catalog.cubes_for(ref), package.query(), limits=limits,
            data_as_of=registered.data_as_of,
        )
    return PackageFile.of(_version(package, kommune_kode, registered), cellset)
