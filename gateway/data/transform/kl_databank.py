"""KL Databank: the seed's CSV layout becomes a fact table and four dimensions.

``Resultat`` is each figure's own ratio (Tæller / Nævner × the figure's scale, rounded), so it
is kept as delivered and averaged, never summed, across kommuner.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb

from gateway.data.transform.common import refuse_first


def build(
    con: duckdb.DuckDBPyConnection, labels: Mapping[str, str], *, kommune_kode: str | None, as_of: date, pseudonym_key: str,
    schema_dir: Path,
) -> None:
    label = labels["kl_databank"]
    refuse_first(
        con, label, "Kommunenavn",
        """SELECT s._row, s."Kommunenum" || ' ' || s."Kommunenavn" || ' (expected ' || k.navn || ')'
           FROM src_kl_databank s JOIN src_dim_kommune k ON k.kode = s."Kommunenum" WHERE k.navn <> s."Kommunenavn" """,
        "kommune name does not match its number: {value}",
    )
    refuse_first(
        con, label, "Udtræksdato",
        """SELECT _row, "Udtræksdato" FROM src_kl_databank WHERE "Udtræksdato" > $as_of""",
        f"extraction date {{value}} is after data as of {as_of.isoformat()}",
        {"as_of": as_of},
    )
    con.execute(
        """CREATE TABLE noegletal_vaerdier AS
        SELECT "ID" AS noegletal_id, "Periode" AS periode, strftime("Udtræksdato", '%Y-%m-%d') AS udtraeksdato,
               "Kommunenum" AS kommune, "Resultat" AS resultat, "Tæller" AS taeller, "Nævner" AS naevner
        FROM src_kl_databank ORDER BY noegletal_id, periode, kommune"""
    )
    has_catalog = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'src_noegletal'"
    ).fetchone()
    if has_catalog and has_catalog[0]:
        con.execute(
            """CREATE TABLE dim_noegletal AS
            SELECT id AS noegletal_id, id || ' ' || navn AS noegletal_tekst, navn AS noegletal_navn, kapitel, skala
            FROM src_noegletal ORDER BY _row"""
        )
    else:  # the seed layout alone has no names: fall back to the ID
        con.execute(
            """CREATE TABLE dim_noegletal AS
            SELECT DISTINCT noegletal_id, 'Nøgletal ' || noegletal_id AS noegletal_tekst,
                   'Nøgletal ' || noegletal_id AS noegletal_navn, 'Ukendt' AS kapitel, NULL::DOUBLE AS skala
            FROM noegletal_vaerdier ORDER BY noegletal_id"""
        )
    con.execute(
        """CREATE TABLE dim_periode AS SELECT DISTINCT periode, periode AS periode_tekst
        FROM noegletal_vaerdier ORDER BY periode"""
    )
    con.execute(
        """CREATE TABLE dim_udtraeksdato AS
        SELECT DISTINCT udtraeksdato, strftime(udtraeksdato::DATE, '%d-%m-%Y') AS udtraeksdato_tekst
        FROM noegletal_vaerdier ORDER BY udtraeksdato"""
    )
    con.execute("CREATE TABLE dim_kommune AS SELECT * EXCLUDE (_row) FROM src_dim_kommune ORDER BY _row")
