"""Voksenhandicap: delivered service periods (forløb) become one fact row per forløb and month.

The kommune cube keeps what the kommune reported, with DST's harmonisation flags as
dimensions (rows DST would remove stay visible: a forløb without a usable period appears once,
in the month of its end date or of data-as-of, with 0 days). The benchmark cube applies them:
removed rows are dropped, deceased persons' open services end on the date of death, a
1.12.0.2 line that overlaps a 1.12.0.1/1.8.1 stay ends the day before the stay (its "dato
uden overlap"), and persons are pseudonymous keys instead of personnumre (salted with the home's
pseudonym key, so a person keeps one pseudonym, and one disclosure-control record key, across
loads). Målgruppe codes are valid when they are in the list beside the cube models
(``schema/voksenhandicap_maalgrupper.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb

from gateway.data import voksenhandicap_rules as rules
from gateway.data.transform.common import create_monthly_time, create_values_table, refuse_first
from gateway.errors import LoadError

FIRST_DAY = date(2013, 1, 1)  # FLIS holds statistics from 2013


def _scope(con: duckdb.DuckDBPyConnection, label: str, kommune_kode: str | None) -> None:
    handle, betaling = rules.special_rule_sql("handlekommune", "betalingskommune")
    con.execute(
        f"""CREATE TEMP TABLE vh_interpreted AS
        SELECT * EXCLUDE (handlekommune, betalingskommune, opholdssted, funktionsvurdering),
          handlekommune AS leveret_handlekommune,
          {handle} AS handlekommune, {betaling} AS betalingskommune,
          coalesce(opholdssted, 'ukendt') AS opholdssted, coalesce(funktionsvurdering, 'U') AS funktionsvurdering,
          personnummer AS person
        FROM src_forloeb"""
    )
    refuse_first(
        con, label, "funktionsvurdering",
        "SELECT _row, funktionsvurdering FROM vh_interpreted WHERE funktionsvurdering NOT IN ('A','B','C','D','E','U')",
        "funktionsvurdering {value!r} is not one of A, B, C, D, E",
    )
    if kommune_kode is None:
        con.execute("CREATE TEMP TABLE vh_scope AS SELECT * FROM vh_interpreted")
        return
    deliverers = [kommune_kode] + [h for h, p in rules.SPECIAL_PARTNERS.items() if p == kommune_kode]
    refuse_first(
        con, label, "handlekommune",
        "SELECT _row, leveret_handlekommune FROM vh_interpreted WHERE NOT list_contains($d, leveret_handlekommune)",
        f"handlekommune {{value}} cannot deliver data for kommune {kommune_kode} (file for another kommune?)",
        {"d": deliverers},
    )
    # rows Ishøj (Tårnby) delivers for Vallensbæk (Dragør) belong to the partner's database
    con.execute("CREATE TEMP TABLE vh_scope AS SELECT * FROM vh_interpreted WHERE handlekommune = $k", {"k": kommune_kode})


def _fact(
    con: duckdb.DuckDBPyConnection, *, benchmark: bool, as_of: date, pseudonym_key: str,
    maalgrupper: tuple[rules.Maalgruppe, ...],
) -> None:
    con.execute(f"CREATE TEMP TABLE vh_flagged AS {rules.harmonisation_sql('vh_scope')}",
                rules.harmonisation_params(as_of, maalgrupper))
    removed = ", ".join(f"'{r.key}'" for r in rules.REGLER if r.removed_in_benchmark)
    if benchmark:
        person = "substr(sha256($salt || personnummer), 1, 16)"
        # rules.benchmark_period: the first of the end, the date of death and the date without overlap
        end = "least(coalesce(slutdato, doed_slutdato), dato_uden_overlap)"
        where = f"WHERE regel NOT IN ({removed})"
        params: dict[str, object] = {"salt": pseudonym_key}  # the home's: one pseudonym per person in every load
    else:
        person, end, where, params = "personnummer", "slutdato", "", {}
    p107 = rules.p107_bucket_sql("ydelse_kode", "startdato", "slut", "$p107_ref::DATE")
    personal = "" if benchmark else "forloeb_id, personnummer,"
    con.execute(
        f"""CREATE TABLE forloeb_maaned AS
        WITH p AS (
          SELECT *, {end} AS slut, {person} AS person_noegle,
            CASE WHEN startdato IS NULL OR slutdato < startdato THEN NULL ELSE greatest(startdato, $first) END AS fra,
            least(coalesce({end}, $as_of::DATE), $as_of::DATE) AS til
          FROM vh_flagged {where}
        ), rows AS (
          SELECT p.*, unnest(generate_series(date_trunc('month', fra)::DATE, date_trunc('month', til)::DATE,
                                             INTERVAL 1 MONTH))::DATE AS m
          FROM p WHERE fra IS NOT NULL AND fra <= til
          UNION ALL
          SELECT p.*, date_trunc('month', greatest(least(coalesce(slutdato, $as_of::DATE), $as_of::DATE), $first))::DATE
          FROM p WHERE fra IS NULL
        )
        SELECT {personal} person_noegle, person_noegle || '|' || ydelse_kode AS person_ydelse,
          strftime(m, '%Y-%m') AS maaned, ydelse_kode, maalgruppe_kode, funktionsvurdering, opholdssted,
          handlekommune, betalingskommune, regel,
          CASE WHEN g.g_kommune IS NULL THEN 'Nej' ELSE 'Ja' END AS godkendt,
          {p107} AS p107,
          {rules.mark_sql('overlap_linje', 'overlap_borger')} AS overlap_ophold,
          {rules.mark_sql('sps_linje', 'sps_borger')} AS sps_ophold,
          coalesce(strftime(dato_uden_overlap, '%Y-%m-%d'), '{rules.NO_DATE}') AS dato_uden_overlap,
          CASE WHEN fra IS NULL THEN 0 ELSE date_diff('day', greatest(fra, m), least(til, last_day(m))) + 1 END::INTEGER AS dage
        FROM rows
        LEFT JOIN (SELECT kommune AS g_kommune, ydelse_kode AS g_ydelse, kvartal AS g_kvartal FROM src_godkendte) g
          ON g.g_kommune = rows.handlekommune AND g.g_ydelse = rows.ydelse_kode
          AND g.g_kvartal = strftime(m, '%Y') || '-K' || quarter(m)
        ORDER BY maaned, person_ydelse""",
        {"first": FIRST_DAY, "as_of": as_of, "p107_ref": rules.p107_reference(as_of), **params},
    )


def _kontoplan_row(y: rules.Ydelse) -> tuple[str, ...]:
    """The kontoplan levels of a ydelse: keys are the kontoplan's own numbers, which nest."""
    k = y.kontering
    funktion = k.funktion_nr
    return (k.dranst, k.hovedkonto, f"{k.hovedkonto}.{k.hovedfunktion}", funktion, k.hovedart, k.gruppering,
            f"{funktion}:{k.gruppering}", f"{funktion} gruppering {k.gruppering} ({y.kode})")


def _dimensions(
    con: duckdb.DuckDBPyConnection, *, benchmark: bool, as_of: date, maalgrupper: tuple[rules.Maalgruppe, ...]
) -> None:
    create_monthly_time(con, "dim_tid", FIRST_DAY, as_of)
    ydelser = [
        (y.kode, f"{y.kode} {y.dst_navn}", y.kategori, y.lovhjemmel, y.paragraf, y.dst_navn, *_kontoplan_row(y), i)
        for i, y in enumerate(rules.YDELSER)
    ]
    known = {y.kode for y in rules.YDELSER}
    invalid = [r[0] for r in con.execute("SELECT DISTINCT ydelse_kode FROM forloeb_maaned ORDER BY 1").fetchall()]
    none = rules.NO_KONTERING
    ydelser += [
        (code, f"{code} (ugyldig)", rules.INVALID_YDELSE_KATEGORI, "", "", "", none, none, none, none, "", "", none,
         "Ingen kontoplan (ugyldig ydelseskode)", 1000 + i)
        for i, code in enumerate(c for c in invalid if c not in known)
    ]
    create_values_table(
        con, "dim_ydelse",
        [("ydelse_kode", "VARCHAR"), ("ydelse_tekst", "VARCHAR"), ("kategori", "VARCHAR"), ("lovhjemmel", "VARCHAR"),
         ("paragraf", "VARCHAR"), ("dst_navn", "VARCHAR"), ("dranst", "VARCHAR"), ("hovedkonto", "VARCHAR"),
         ("hovedfunktion", "VARCHAR"), ("funktion", "VARCHAR"), ("hovedart", "VARCHAR"), ("gruppering", "VARCHAR"),
         ("kontoplan_gruppering", "VARCHAR"), ("kontoplan_gruppering_tekst", "VARCHAR"), ("sortering", "INTEGER")],
        ydelser,
    )
    groups = [(m.kode, f"{m.kode} {m.navn}", m.hovedgruppe, i) for i, m in enumerate(maalgrupper)]
    known = {m.kode for m in maalgrupper}
    invalid = [r[0] for r in con.execute("SELECT DISTINCT maalgruppe_kode FROM forloeb_maaned ORDER BY 1").fetchall()]
    groups += [
        (code, f"{code} (ugyldig)", rules.INVALID_MAALGRUPPE_HOVEDGRUPPE, 1000 + i)
        for i, code in enumerate(c for c in invalid if c not in known)
    ]
    create_values_table(
        con, "dim_maalgruppe",
        [("maalgruppe_kode", "VARCHAR"), ("maalgruppe_tekst", "VARCHAR"), ("hovedgruppe", "VARCHAR"), ("sortering", "INTEGER")],
        groups,
    )
    create_values_table(
        con, "dim_funktionsvurdering", [("funktionsvurdering", "VARCHAR"), ("funktionsvurdering_tekst", "VARCHAR")],
        rules.FUNKTIONSVURDERINGER,
    )
    handlings = list(dict.fromkeys(r.dst_handling for r in rules.REGLER))
    create_values_table(
        con, "dim_harmonisering",
        [("regel", "VARCHAR"), ("regel_tekst", "VARCHAR"), ("dst_handling", "VARCHAR"), ("dst_handling_sortering", "INTEGER"),
         ("sortering", "INTEGER")],
        [(r.key, r.tekst, r.dst_handling, handlings.index(r.dst_handling), i) for i, r in enumerate(rules.REGLER)],
    )
    create_values_table(
        con, "dim_godkendt", [("godkendt", "VARCHAR"), ("godkendt_tekst", "VARCHAR")],
        [("Ja", "Godkendt hos DST"), ("Nej", "Ikke godkendt hos DST")],
    )
    create_values_table(
        con, "dim_p107", [("p107", "VARCHAR"), ("p107_tekst", "VARCHAR"), ("sortering", "INTEGER")],
        [(k, c, i) for i, (k, c, _lo, _hi) in enumerate(rules.P107_BUCKETS)] + [(*rules.P107_NOT_RELEVANT, 99)],
    )
    marks = [("overlap_ophold", "opholdsydelser"), ("sps_ophold", "støtte i eget hjem samtidig med ophold")]
    for column, what in marks:
        create_values_table(
            con, f"dim_{column}",
            [(column, "VARCHAR"), ("borger", "VARCHAR"), ("borger_tekst", "VARCHAR"), ("linje_tekst", "VARCHAR"),
             ("sortering", "INTEGER")],
            [(key, borger, f"Borger med {what}: {borger}", f"Ydelseslinje med {what}: {linje}", i)
             for i, (key, borger, linje) in enumerate(rules.MARKS)],
        )
    con.execute(
        f"""CREATE TABLE dim_dato_uden_overlap AS
        SELECT dato_uden_overlap,
          CASE WHEN dato_uden_overlap = '{rules.NO_DATE}' THEN 'Intet overlap' ELSE dato_uden_overlap END AS dato_tekst,
          CASE WHEN dato_uden_overlap = '{rules.NO_DATE}' THEN '{rules.NO_DATE}' ELSE left(dato_uden_overlap, 4) END AS aar,
          CASE WHEN dato_uden_overlap = '{rules.NO_DATE}' THEN 'Intet overlap' ELSE left(dato_uden_overlap, 4) END AS aar_tekst
        FROM (SELECT DISTINCT dato_uden_overlap FROM forloeb_maaned UNION SELECT '{rules.NO_DATE}')
        ORDER BY dato_uden_overlap = '{rules.NO_DATE}' DESC, dato_uden_overlap"""
    )
    # a kommune sees only the places where it has a resident it acts for (seed section 6.3)
    con.execute(
        """CREATE TABLE dim_opholdssted AS
        SELECT 'ukendt' AS opholdssted, 'Ukendt (eget hjem)' AS opholdssted_tekst, NULL::VARCHAR AS kommune, 0 AS sortering
        UNION ALL
        SELECT o.opholdssted, o.navn, o.kommune, 1 FROM src_opholdssteder o
        WHERE o.opholdssted IN (SELECT opholdssted FROM forloeb_maaned)
        ORDER BY sortering, opholdssted"""
    )
    con.execute("CREATE TABLE dim_kommune AS SELECT * EXCLUDE (_row) FROM src_dim_kommune ORDER BY _row")
    if not benchmark:
        con.execute(
            """CREATE TABLE dim_borger AS SELECT DISTINCT personnummer, personnummer AS personnummer_tekst
            FROM forloeb_maaned ORDER BY personnummer"""
        )


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date,
    pseudonym_key: str, schema_dir: Path,
) -> None:
    try:
        maalgrupper = rules.load_maalgrupper(schema_dir / rules.MAALGRUPPE_FILE)
    except rules.MaalgruppeListError as error:
        raise LoadError(str(error.path), error.problem) from None
    _scope(con, labels["forloeb"], kommune_kode)
    _fact(con, benchmark=kommune_kode is None, as_of=as_of, pseudonym_key=pseudonym_key, maalgrupper=maalgrupper)
    _dimensions(con, benchmark=kommune_kode is None, as_of=as_of, maalgrupper=maalgrupper)
    for table in ("vh_interpreted", "vh_scope", "vh_flagged"):
        con.execute(f"DROP TABLE {table}")
