"""Small hand-countable cubes for engine tests (a uniquely named module: conftests share a name).

Three cubes on one database: a Ukraine-like event cube (role-playing Fra/Til kommune, a day-grain
time dimension), a mini Voksenhandicap cube (month-grain time with a days column, person level),
and a tiny Borger cube for ratios. The data are listed in full so every expected value in the
tests can be counted by hand.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.model.types import Cube, Dimension, Hierarchy, Level, Measure, MeasureKind

MONTH_NAMES = ["januar", "februar", "marts", "april"]


def _lv(name: str, key: str, caption: str | None = None, order: str | None = None, individual: bool = False) -> Level:
    return Level(name, key, caption or key, order or key, individual)


def _dim(name: str, table: str, key: str, fk: str, levels: list[Level], **kw: object) -> Dimension:
    return Dimension(name, table, key, fk, (Hierarchy(name, tuple(levels)),), **kw)  # type: ignore[arg-type]


def ukraine_cube() -> Cube:
    tid = _dim(
        "Tid",
        "dim_tid",
        "dato",
        "dato",
        [
            _lv("År", "aar", "aar_tekst"),
            _lv("Kvartal", "kvartal", "kvartal_tekst"),
            _lv("Måned", "maaned", "maaned_tekst"),
            _lv("Dag", "dag", "dag_tekst"),
        ],
        is_time=True,
        days_column="dage",
    )
    return Cube(
        name="Ukraine",
        fact_table="haendelser",
        dimensions=(
            tid,
            _dim("Aldersgruppe", "dim_aldersgruppe", "aldersgruppe", "aldersgruppe",
                 [_lv("Aldersgruppe", "aldersgruppe", "aldersgruppe_tekst", "sortering")]),
            _dim("Køn", "dim_koen", "koen", "koen", [_lv("Køn", "koen", "koen_tekst")]),
            _dim("Ægtefælle", "dim_aegtefaelle", "aegtefaelle", "aegtefaelle",
                 [_lv("Ægtefælle", "aegtefaelle", "aegtefaelle_tekst")]),
            _dim("Fra kommune", "dim_kommune", "kode", "fra_kommune",
                 [_lv("Region", "region"), _lv("Kommune", "kode", "navn")]),
            _dim("Til kommune", "dim_kommune", "kode", "til_kommune",
                 [_lv("Region", "region"), _lv("Kommune", "kode", "navn")]),
        ),
        measures=(
            Measure("Indrejste", MeasureKind.SUM, column="indrejst"),
            Measure("Udrejste", MeasureKind.SUM, column="udrejst"),
            Measure("Tilflyttede", MeasureKind.SUM, column="tilflyttet"),
            Measure("Fraflyttede", MeasureKind.SUM, column="fraflyttet"),
            Measure("Nettoindvandring", MeasureKind.CALCULATED, expression="[Indrejste] - [Udrejste]"),
            Measure("Nettotilvækst", MeasureKind.CALCULATED,
                    expression="[Indrejste] - [Udrejste] + [Tilflyttede] - [Fraflyttede]"),
            Measure("Akkumuleret tilvækst", MeasureKind.RUNNING_TOTAL, of="Nettotilvækst", along="Tid",
                    additive=False),
            Measure("Hændelser", MeasureKind.COUNT),
        ),
    )


def vh_cube() -> Cube:
    periode = _dim("Periode", "dim_periode", "maaned", "maaned",
                   [_lv("År", "aar"), _lv("Måned", "maaned", "maaned_tekst")], is_time=True, days_column="dage")
    return Cube(
        name="Voksenhandicap",
        fact_table="modtagelser",
        dimensions=(
            periode,
            _dim("Ydelse", "dim_ydelse", "ydelse", "ydelse", [_lv("Ydelse", "ydelse", "ydelse_tekst", "sortering")]),
            _dim("Person", "dim_person", "cpr", "cpr", [_lv("Personnummer", "cpr", individual=True)]),
        ),
        measures=(
            Measure("Helårsmodtagere", MeasureKind.DAYS_WEIGHTED, column="dage_modtaget", along="Periode",
                    format="#,##0.00", additive=True),
            Measure("Unikke modtagere", MeasureKind.DISTINCT_COUNT, column="cpr", additive=False),
            Measure("Ydelsesrækker", MeasureKind.COUNT),
            Measure("Modtagne dage", MeasureKind.SUM, column="dage_modtaget"),
            Measure("Gennemsnitlige dage", MeasureKind.AVG, column="dage_modtaget", format="#,##0.0", additive=False),
            Measure("Færreste dage", MeasureKind.MIN, column="dage_modtaget", additive=False),
            Measure("Flest dage", MeasureKind.MAX, column="dage_modtaget", additive=False),
        ),
    )


def borger_cube() -> Cube:
    return Cube(
        name="Borger",
        fact_table="befolkning",
        dimensions=(
            _dim("Periode", "dim_periode", "maaned", "maaned",
                 [_lv("År", "aar"), _lv("Måned", "maaned", "maaned_tekst")], is_time=True, days_column="dage"),
            _dim("Køn", "dim_koen", "koen", "koen", [_lv("Køn", "koen", "koen_tekst")]),
        ),
        measures=(
            Measure("Fødte", MeasureKind.SUM, column="foedte"),
            Measure("Indbyggere", MeasureKind.SUM, column="indbyggere"),
            Measure("Fødte pr. 10.000 indbyggere", MeasureKind.RATIO, numerator="Fødte", denominator="Indbyggere",
                    scale=10000, format="#,##0.0", additive=False),
            Measure("Fødte pr. indbygger", MeasureKind.CALCULATED, expression="[Fødte] / [Indbyggere] * 2 / 2",
                    format="0.0000", additive=False),
        ),
    )


CUBES = (ukraine_cube(), vh_cube(), borger_cube())

# (dato, aldersgruppe, koen, aegtefaelle, fra, til, indrejst, udrejst, tilflyttet, fraflyttet)
EVENTS = [
    ("2022-01-05", "barn", "K", "N", "999", "101", 1, 0, 0, 0),
    ("2022-01-10", "voksen", "M", "J", "999", "101", 1, 0, 0, 0),
    ("2022-01-20", "voksen", "K", "J", "999", "101", 1, 0, 0, 0),
    ("2022-02-03", "voksen", "K", "N", "999", "101", 1, 0, 0, 0),
    ("2022-02-14", "aeldre", "M", "N", "101", "999", 0, 1, 0, 0),
    ("2022-02-20", "voksen", "M", "N", "147", "101", 0, 0, 1, 0),
    ("2022-03-02", "barn", "M", "N", "999", "101", 1, 0, 0, 0),
    ("2022-03-15", "voksen", "K", "J", "101", "751", 0, 0, 0, 1),
    ("2022-03-30", "voksen", "M", "J", "999", "101", 1, 0, 0, 0),
    ("2022-04-11", "barn", "K", "N", "101", "999", 0, 1, 0, 0),
]

# (maaned, ydelse, cpr, dage_modtaget): data to 31 March 2022 (Jan 1 – Mar 31 = 90 days).
# Person A from 15 March (17 days, counted inclusively), person B the whole period,
# person C on two other services in February.
RECEIPTS = [
    ("2022-03", "1.8", "0101801111", 17),
    ("2022-01", "1.8", "0202802222", 31),
    ("2022-02", "1.8", "0202802222", 28),
    ("2022-03", "1.8", "0202802222", 31),
    ("2022-02", "1.10", "0303803333", 28),
    ("2022-02", "1.11", "0303803333", 14),
]

# (maaned, koen, foedte, indbyggere)
POPULATION = [
    ("2022-01", "K", 3, 20000),
    ("2022-01", "M", 2, 20000),
    ("2022-02", "K", 1, 20000),
    ("2022-02", "M", 4, 0),
]


def _tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    text, integer = sa.String, sa.Integer
    spec = {
        "dim_tid": [("dato", sa.Date), ("aar", integer), ("aar_tekst", text), ("kvartal", text),
                    ("kvartal_tekst", text), ("maaned", text), ("maaned_tekst", text), ("dag", text),
                    ("dag_tekst", text), ("dage", integer)],
        "dim_aldersgruppe": [("aldersgruppe", text), ("aldersgruppe_tekst", text), ("sortering", integer)],
        "dim_koen": [("koen", text), ("koen_tekst", text)],
        "dim_aegtefaelle": [("aegtefaelle", text), ("aegtefaelle_tekst", text)],
        "dim_kommune": [("kode", text), ("navn", text), ("region", text)],
        "haendelser": [("dato", sa.Date), ("aldersgruppe", text), ("koen", text), ("aegtefaelle", text),
                       ("fra_kommune", text), ("til_kommune", text), ("indrejst", integer), ("udrejst", integer),
                       ("tilflyttet", integer), ("fraflyttet", integer)],
        "dim_periode": [("maaned", text), ("maaned_tekst", text), ("aar", integer), ("dage", integer)],
        "dim_ydelse": [("ydelse", text), ("ydelse_tekst", text), ("sortering", integer)],
        "dim_person": [("cpr", text)],
        "modtagelser": [("maaned", text), ("ydelse", text), ("cpr", text), ("dage_modtaget", integer)],
        "befolkning": [("maaned", text), ("koen", text), ("foedte", integer), ("indbyggere", integer)],
    }
    return {name: sa.Table(name, metadata, *(sa.Column(c, t) for c, t in cols)) for name, cols in spec.items()}


def _days() -> list[dict[str, object]]:
    rows = []
    day = dt.date(2022, 1, 1)
    while day <= dt.date(2022, 4, 30):
        quarter = (day.month - 1) // 3 + 1
        rows.append({
            "dato": day, "aar": day.year, "aar_tekst": str(day.year),
            "kvartal": f"{day.year}-K{quarter}", "kvartal_tekst": f"{quarter}. kvartal {day.year}",
            "maaned": f"{day:%Y-%m}", "maaned_tekst": f"{MONTH_NAMES[day.month - 1]} {day.year}",
            "dag": day.isoformat(), "dag_tekst": f"{day.day}. {MONTH_NAMES[day.month - 1]} {day.year}", "dage": 1,
        })
        day += dt.timedelta(days=1)
    return rows


def load_fixture(connection: Connection) -> None:
    """Create and fill every fixture table on ``connection`` (any SQLAlchemy dialect)."""
    metadata = sa.MetaData()
    tables = _tables(metadata)
    metadata.create_all(connection)

    def insert(name: str, rows: list[dict[str, object]]) -> None:
        connection.execute(tables[name].insert(), rows)

    insert("dim_tid", _days())
    insert("dim_aldersgruppe", [
        {"aldersgruppe": "barn", "aldersgruppe_tekst": "0-17 år", "sortering": 1},
        {"aldersgruppe": "voksen", "aldersgruppe_tekst": "18-64 år", "sortering": 2},
        {"aldersgruppe": "aeldre", "aldersgruppe_tekst": "65+ år", "sortering": 3},
    ])
    insert("dim_koen", [{"koen": "K", "koen_tekst": "Kvinde"}, {"koen": "M", "koen_tekst": "Mand"}])
    insert("dim_aegtefaelle", [{"aegtefaelle": "J", "aegtefaelle_tekst": "Ja"},
                               {"aegtefaelle": "N", "aegtefaelle_tekst": "Nej"}])
    insert("dim_kommune", [
        {"kode": "101", "navn": "København", "region": "Hovedstaden"},
        {"kode": "147", "navn": "Frederiksberg", "region": "Hovedstaden"},
        {"kode": "751", "navn": "Aarhus", "region": "Midtjylland"},
        {"kode": "999", "navn": "Udlandet", "region": "Udlandet"},
    ])
    keys = ["dato", "aldersgruppe", "koen", "aegtefaelle", "fra_kommune", "til_kommune",
            "indrejst", "udrejst", "tilflyttet", "fraflyttet"]
    insert("haendelser", [
        dict(zip(keys, (dt.date.fromisoformat(e[0]), *e[1:]))) for e in EVENTS
    ])
    insert("dim_periode", [
        {"maaned": "2022-01", "maaned_tekst": "januar 2022", "aar": 2022, "dage": 31},
        {"maaned": "2022-02", "maaned_tekst": "februar 2022", "aar": 2022, "dage": 28},
        {"maaned": "2022-03", "maaned_tekst": "marts 2022", "aar": 2022, "dage": 31},
    ])
    insert("dim_ydelse", [
        {"ydelse": "1.8", "ydelse_tekst": "Længerevarende botilbud (§108)", "sortering": 8},
        {"ydelse": "1.10", "ydelse_tekst": "Beskyttet beskæftigelse (§103)", "sortering": 10},
        {"ydelse": "1.11", "ydelse_tekst": "Aktivitets- og samværstilbud (§104)", "sortering": 11},
    ])
    insert("dim_person", [{"cpr": c} for c in ("0101801111", "0202802222", "0303803333")])
    insert("modtagelser", [dict(zip(["maaned", "ydelse", "cpr", "dage_modtaget"], r)) for r in RECEIPTS])
    insert("befolkning", [dict(zip(["maaned", "koen", "foedte", "indbyggere"], r)) for r in POPULATION])
