"""The Voksenhandicap model and rules against the seed's own words (KOMBIT's documentation of
the area, seed ``003_085d78dcf7f112e7``). The quotes are copied verbatim (the repository must stand
alone), so a rule or name that drifts from the seed fails here."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.data import voksenhandicap_rules as rules
from gateway.model import load_area
from gateway.model.types import Cube

SCHEMA = Path(__file__).resolve().parents[3] / "schema" / "voksenhandicap.yaml"

# Section 6.1, the bridge to the authorised kontoplan ("i den aggregerede kube, vil man bare kunne
# se det som bro sker efter følgende tabel"), header and rows as printed.
KONTOPLAN_HEADER = "Ydelse Dranst Hovedkonto Hovedfunktion Funktion Hovedart Gruppering"
KONTOPLAN_ROWS = """
1.1 1 5 38 59 ≠0 1,2,3
1.3 1 5 38 39 ≠0 6,7,8
1.4 1 5 38 58 ≠0 1,2,3
1.8.1 1 5 38 50 ≠0 1,2,3
1.8.2 1 5 38 52 ≠0 1,2,3
1.12.0.1 1 5 38 51 ≠0 1,2,3
1.12.0.2 1 5 38 39 ≠0 3,4,5
1.13.2 1 5 38 39 ≠0 2
1.13.3 1 5 38 53 ≠0 4
1.13.4 1 5 38 53 ≠0 3
1.17 1 5 38 39 ≠0 1
1.18.1 1 5 38 39 ≠0 11
1.18.2 1 5 38 39 ≠0 12
"""

# Section 6.4
MAALGRUPPE = """Målgrupperne fordeler sig på tre hovedgrupper, henholdsvis:
- Fysisk handicap
- Psykisk handicap
- Socialt problem."""

# Section 6.6, "Datalinjer der vil blive fjernet af DST"
FJERNES = """• Ydelser med ugyldige ydelseskoder
• Ydelser med ugyldige målgruppekoder
• Ydelser uden startdato
• Ydelser med slutdato der ligger før startdato
• Alle børn fjernes, hvilket svarer til at alle ydelsesmodtagere der er under 17 år pr. 1. januar det år
ydelsen starter, fjernes"""

# Section 6.6, "Data-/forløbslinjer der vil blive påvirket af DST"
DOED = "For alle døde personer, tilføjes der en alternativ slutdato (personens dødsdato) for de åbne ydelser"
OVERLAP = ("Der markeres hvis en borger har overlappende opholdsydelser. Helt præcis hvis en borger har en "
           "flere af følgende ydelser (1.12.0.1, 1.8.1 og 1.8.2) i overlappende forløb skal borgeren og "
           "ydelseslinjen markeres.")
SPS = ("Der markeres de borgere der har socialpædagogisk støtte i eget hjem (1.12.0.2) og samtidig modtager en af "
       "følgende opholdsydelser (1.12.0.1 og 1.8.1). Desuden skal der i benchmark datamarten oplyses hvilken dato "
       "der gør at der ikke er overlap.")
UENDRET = ("Disse opmærkninger medfører ikke ændringer i kommunernes data i de kommunespecifikke detaljerede "
           "datasæt.")

# Section 6.6, "Yderligere opmærkninger" (the seed's quotes and its typo "færre en" as printed)
P107 = ("hvor længe de har været åbne relativt frem til sidste dag i seneste måned. Dette skal sorteres efter "
        "følgende grupper, ’færre en 100 dage’, ’101 – 200 dage’, ’201 – 300 dage’, ’301 – 400 dage’, "
        "’401 – 500 dage’, 501 – 1000 dage’ og ’mere end 1000’.")

# Section 11.1, the first extract of the harmonisation report
RECIPE = """Række Harmonisering VH DST Handling <> ’Ukendt’
Række Harmonisering VH Regel <> ’Ukendt’"""

CODE = r"\d+(?:\.\d+)+"


def _cubes() -> tuple[Cube, Cube]:
    area = load_area(SCHEMA, label="schema/voksenhandicap.yaml")
    return area.kommune_cubes[0], area.benchmark_cubes[0]


def test_every_ydelse_has_the_seeds_kontoplan_row_verbatim() -> None:
    rows = [line.split(" ") for line in KONTOPLAN_ROWS.strip().splitlines()]
    by_code = {y.kode: y.kontering for y in rules.YDELSER}
    assert [r[0] for r in rows] == [y.kode for y in rules.YDELSER]
    for kode, dranst, hovedkonto, hovedfunktion, funktion, hovedart, gruppering in rows:
        assert by_code[kode] == rules.Kontering(dranst, hovedkonto, hovedfunktion, funktion, hovedart, gruppering)
    # the bridge proper: one row per ydelse and gruppering (1.1 has three)
    bridge = rules.kontoplan_bro()
    assert len(bridge) == sum(len(r[6].split(",")) for r in rows)
    assert [b[6] for b in bridge if b[0] == "1.1"] == ["1", "2", "3"]


def test_the_kontoplan_hierarchy_has_the_seeds_columns_in_both_cubes() -> None:
    columns = KONTOPLAN_HEADER.split(" ")
    for cube in _cubes():
        ydelse = next(d for d in cube.dimensions if d.name == "Ydelse")
        kontoplan = next(h for h in ydelse.hierarchies if h.name == "Kontoplan")
        # Hovedart (≠0 for every ydelse) is named in the Gruppering member, not a level of its own
        assert [lv.name for lv in kontoplan.levels] == [c for c in columns if c not in ("Ydelse", "Hovedart")]


def test_the_maalgruppe_main_groups_are_the_seeds() -> None:
    groups = tuple(line.removeprefix("- ").rstrip(".") for line in MAALGRUPPE.splitlines()[1:])
    assert groups == rules.HOVEDGRUPPER
    assert {m.hovedgruppe for m in rules.default_maalgrupper()} <= set(groups)


def test_the_removals_are_the_seeds_in_its_order() -> None:
    removed = [r for r in rules.REGLER if r.removed_in_benchmark]
    assert len(removed) == FJERNES.count("•") == 5
    assert "under 17 år pr. 1. januar det år" in FJERNES and removed[-1].tekst == "Under 17 år pr. 1. januar i startåret"
    assert [r.key for r in removed] == ["ugyldig_ydelse", "ugyldig_maalgruppe", "ingen_startdato", "slut_foer_start",
                                        "under_17"]


def test_the_overlap_rules_name_the_seeds_services() -> None:
    assert set(re.findall(CODE, OVERLAP)) == set(rules.RESIDENTIAL)
    sps, *stays = re.findall(CODE, SPS)
    assert sps == rules.SPS_EGET_HJEM and tuple(stays) == rules.SPS_CONFLICTS
    assert "alternativ slutdato (personens dødsdato)" in DOED and "for de åbne ydelser" in DOED
    assert "borgeren og ydelseslinjen markeres" in OVERLAP


def test_the_benchmark_tells_the_date_and_both_cubes_mark_person_and_line() -> None:
    kommune, benchmark = _cubes()
    assert "i benchmark datamarten oplyses hvilken dato" in SPS
    assert "Dato uden overlap" in {d.name for d in benchmark.dimensions}
    for cube in (kommune, benchmark):
        for name in ("Overlappende ophold", "Støtte i eget hjem og ophold"):
            dimension = next(d for d in cube.dimensions if d.name == name)
            assert [lv.name for lv in dimension.hierarchies[0].levels] == ["Borger", "Ydelseslinje"]
    assert "medfører ikke ændringer" in UENDRET  # the kommune cube's days: tests in test_data_voksenhandicap.py


def test_the_paragraph_107_groups_are_the_seeds() -> None:
    groups = re.findall(r"’?([^’]+?)’", P107.split("grupper, ")[1])
    groups = [g.strip(" ,og") for g in groups if g.strip(" ,og")]
    assert groups == ["færre en 100 dage", "101 – 200 dage", "201 – 300 dage", "301 – 400 dage", "401 – 500 dage",
                      "501 – 1000 dage", "mere end 1000"]
    ours = [caption for _key, caption, _low, _high in rules.P107_BUCKETS]
    # the seed's captions, with its "færre en" spelled "færre end" and "dage" after 1000
    assert [c.lower() for c in ours] == ["færre end 100 dage", *groups[1:6], "mere end 1000 dage"]
    for (_key, caption, low, high) in rules.P107_BUCKETS[1:6]:
        assert caption == f"{low} – {high} dage"
    assert "sidste dag i seneste måned" in P107


def test_the_seeds_harmonisation_recipe_names_levels_and_members_of_the_kommune_cube() -> None:
    kommune, _ = _cubes()
    assert kommune.name == "Voksne Handicappede"
    harmonisering = next(d for d in kommune.dimensions if d.name == "Harmonisering VH")
    levels = [lv.name for lv in harmonisering.hierarchies[0].levels]
    for line in RECIPE.splitlines():
        level = line.removeprefix("Række Harmonisering VH ").split(" <> ")[0]
        assert level in levels
    assert "Ukendt" in {r.dst_handling for r in rules.REGLER} and "Ukendt" in {r.tekst for r in rules.REGLER}
