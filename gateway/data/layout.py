"""The source-file layout: which files, columns and types each area's loader expects.

One file per table, ``<table>.csv`` (UTF-8, header row) or ``<table>.parquet``; columns by
name, no more and no fewer. ``docs/data-layout.md`` is the prose version of this module and
``gateway.data.validate`` enforces it, so a file that disagrees is refused before anything is
swapped in.
"""

from __future__ import annotations

from dataclasses import dataclass

AREAS = ("ukraine", "borger", "voksenhandicap", "kl_databank")

TEXT = "VARCHAR"
INTEGER = "INTEGER"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
DATE = "DATE"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # DuckDB type name
    nullable: bool = False
    date_format: str | None = None  # a DATE written other than ISO (KL Databank: '%d-%m-%Y')
    minimum: int | None = None  # an INTEGER's allowed range, inclusive (a month: 1-12; a count: 0-)
    maximum: int | None = None
    what: str = "allowed"  # what the range means, for the refusal: "value 13 is not a month (1-12)"

    def bounds(self) -> str:
        """The allowed range as a person reads it: ``1–12``, ``≥ 0``."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum}–{self.maximum}"
        return f"≥ {self.minimum}" if self.minimum is not None else f"≤ {self.maximum}"


@dataclass(frozen=True, slots=True)
class Reference:
    """``column`` must name a row of ``table`` by its key (a foreign key)."""

    column: str
    table: str


@dataclass(frozen=True, slots=True)
class SourceTable:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique per row (a dimension's key); () when not unique
    references: tuple[Reference, ...] = ()
    optional: bool = False  # may be absent (the loader then derives a default)
    csv_delimiters: tuple[str, ...] = (",",)  # accepted separators, detected from the header

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True, slots=True)
class SourceLayout:
    area: str
    benchmark: bool
    tables: tuple[SourceTable, ...]

    def table(self, name: str) -> SourceTable:
        return next(t for t in self.tables if t.name == name)


def _cols(*spec: tuple[str, str] | Column) -> tuple[Column, ...]:
    return tuple(c if isinstance(c, Column) else Column(c[0], c[1]) for c in spec)


DIM_KOMMUNE = SourceTable("dim_kommune", _cols(("kode", TEXT), ("navn", TEXT), ("region", TEXT)), key=("kode",))
DIM_ALDERSGRUPPE = SourceTable(
    "dim_aldersgruppe",
    _cols(("aldersgruppe", TEXT), ("aldersgruppe_tekst", TEXT), ("sortering", INTEGER)),
    key=("aldersgruppe",),
)


def _ukraine(benchmark: bool) -> tuple[SourceTable, ...]:
    # benchmark: every kommune's events, each with the kommune whose figures it counts in
    kommune = (("kommune", TEXT),) if benchmark else ()
    return (
        SourceTable(
            "haendelser",
            _cols(
                ("dato", DATE), *kommune, ("aldersgruppe", TEXT), ("koen", TEXT), ("aegtefaelle", TEXT),
                ("fra_kommune", TEXT), ("til_kommune", TEXT), ("indrejst", INTEGER), ("udrejst", INTEGER),
                ("tilflyttet", INTEGER), ("fraflyttet", INTEGER),
            ),
            references=(
                *((Reference("kommune", "dim_kommune"),) if benchmark else ()),
                Reference("aldersgruppe", "dim_aldersgruppe"), Reference("koen", "dim_koen"),
                Reference("aegtefaelle", "dim_aegtefaelle"), Reference("fra_kommune", "dim_kommune"),
                Reference("til_kommune", "dim_kommune"),
            ),
        ),
        DIM_ALDERSGRUPPE,
        SourceTable("dim_koen", _cols(("koen", TEXT), ("koen_tekst", TEXT)), key=("koen",)),
        SourceTable("dim_aegtefaelle", _cols(("aegtefaelle", TEXT), ("aegtefaelle_tekst", TEXT)), key=("aegtefaelle",)),
        DIM_KOMMUNE,
    )


def _count(name: str) -> Column:
    return Column(name, INTEGER, minimum=0, what="a count")


# One row per month, kommune (benchmark), age band and citizenship: the month's events and its
# mean population (folketal). The loader derives person-days from folketal (docs/data-layout.md).
BORGER_COUNTS = ("foedte", "doede", "tilflyttede", "fraflyttede", "indvandrede", "udvandrede", "folketal")


def _borger(benchmark: bool) -> tuple[SourceTable, ...]:
    kommune = (Column("kommune", TEXT),) if benchmark else ()
    refs = (Reference("aldersgruppe", "dim_aldersgruppe"), Reference("statsborgerskab", "dim_statsborgerskab"))
    fact = SourceTable(
        "befolkning",
        (
            Column("aar", INTEGER, minimum=1000, maximum=9999, what="a four-digit year"),
            Column("maaned", INTEGER, minimum=1, maximum=12, what="a month"),
            *kommune, Column("aldersgruppe", TEXT), Column("statsborgerskab", TEXT),
            *(_count(name) for name in BORGER_COUNTS),
        ),
        key=("aar", "maaned", *(c.name for c in kommune), "aldersgruppe", "statsborgerskab"),
        references=refs + ((Reference("kommune", "dim_kommune"),) if benchmark else ()),
    )
    dims = (
        DIM_ALDERSGRUPPE,
        SourceTable(
            "dim_statsborgerskab",
            _cols(("statsborgerskab", TEXT), ("statsborgerskab_tekst", TEXT), ("sortering", INTEGER)),
            key=("statsborgerskab",),
        ),
    )
    return (fact, *dims, *((DIM_KOMMUNE,) if benchmark else ()))


def _voksenhandicap() -> tuple[SourceTable, ...]:
    return (
        SourceTable(
            "forloeb",
            (
                Column("forloeb_id", TEXT), Column("personnummer", TEXT), Column("foedselsdato", DATE),
                Column("doedsdato", DATE, nullable=True), Column("ydelse_kode", TEXT),
                Column("maalgruppe_kode", TEXT), Column("funktionsvurdering", TEXT, nullable=True),
                Column("opholdssted", TEXT, nullable=True), Column("handlekommune", TEXT),
                Column("betalingskommune", TEXT, nullable=True), Column("startdato", DATE, nullable=True),
                Column("slutdato", DATE, nullable=True),
            ),
            key=("forloeb_id",),
            references=(
                Reference("opholdssted", "opholdssteder"), Reference("handlekommune", "dim_kommune"),
                Reference("betalingskommune", "dim_kommune"),
            ),
        ),
        SourceTable(
            "opholdssteder", _cols(("opholdssted", TEXT), ("navn", TEXT), ("kommune", TEXT)), key=("opholdssted",),
            references=(Reference("kommune", "dim_kommune"),),
        ),
        SourceTable(
            "godkendte", _cols(("kommune", TEXT), ("ydelse_kode", TEXT), ("kvartal", TEXT)),
            key=("kommune", "ydelse_kode", "kvartal"), references=(Reference("kommune", "dim_kommune"),),
        ),
        DIM_KOMMUNE,
    )


KL_DATABANK_COLUMNS = (
    Column("ID", TEXT), Column("Periode", TEXT), Column("Udtræksdato", DATE, date_format="%d-%m-%Y"),
    Column("Kommunenum", TEXT), Column("Kommunenavn", TEXT), Column("Resultat", DOUBLE, nullable=True),
    Column("Tæller", DOUBLE, nullable=True), Column("Nævner", DOUBLE, nullable=True),
)


def _kl_databank() -> tuple[SourceTable, ...]:
    return (
        SourceTable(
            "kl_databank", KL_DATABANK_COLUMNS, key=("ID", "Periode", "Kommunenum"),
            references=(Reference("Kommunenum", "dim_kommune"), Reference("ID", "noegletal")),
            csv_delimiters=("\t", ";", ","),
        ),
        SourceTable(
            "noegletal", _cols(("id", TEXT), ("navn", TEXT), ("kapitel", TEXT), ("skala", DOUBLE)), key=("id",),
            optional=True,
        ),
        DIM_KOMMUNE,
    )


def source_layout(area: str, *, benchmark: bool) -> SourceLayout:
    """The files a load of ``area`` reads; raises ValueError for an area or kind that has none."""
    if area == "ukraine":
        tables = _ukraine(benchmark)
    elif area == "borger":
        tables = _borger(benchmark)
    elif area == "voksenhandicap":
        tables = _voksenhandicap()
    elif area == "kl_databank" and benchmark:
        tables = _kl_databank()
    else:
        kind = "benchmark" if benchmark else "kommune"
        raise ValueError(f"area {area!r} has no {kind} databases")
    return SourceLayout(area, benchmark, tables)


def has_kind(area: str, *, benchmark: bool) -> bool:
    try:
        source_layout(area, benchmark=benchmark)
    except ValueError:
        return False
    return True
