"""Voksenhandicap business rules: the ydelser and their kontoplan bridge, the målgruppe list,
the special rule for acting/paying kommune, Danmarks Statistik's harmonisation flags and
corrections, and the open-§107 buckets (seed ``003_085d78dcf7f112e7``).

Each rule exists once as data here and is rendered both as a plain Python function (easy to
test on a hand-made row) and as DuckDB SQL (how the loader applies it to every row). The tests
check that the two agree.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from gateway.data.transform.common import last_complete_month_end
from gateway.settings import DEFAULT_SCHEMA_DIR

# --- Ydelser (seed section 6.1) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kontering:
    """One row of the seed's bridge to the authorised kontoplan (section 6.1), as the seed writes it."""

    dranst: str
    hovedkonto: str
    hovedfunktion: str
    funktion: str
    hovedart: str  # "≠0": every hovedart but 0
    gruppering: str  # "1,2,3": the grupperinger of the funktion the ydelse is booked on

    @property
    def funktion_nr(self) -> str:
        """The funktion as the kontoplan numbers it: hovedkonto.hovedfunktion.funktion (5.38.59)."""
        return f"{self.hovedkonto}.{self.hovedfunktion}.{self.funktion}"

    @property
    def grupperinger(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.gruppering.split(","))


@dataclass(frozen=True, slots=True)
class Ydelse:
    kode: str
    kategori: str
    lovhjemmel: str  # the seed's "Lovhjemmel" column
    paragraf: str
    dst_navn: str  # name in Statistikbanken HAND07
    kontering: Kontering


def _k(dranst: str, hovedkonto: str, hovedfunktion: str, funktion: str, hovedart: str, gruppering: str) -> Kontering:
    return Kontering(dranst, hovedkonto, hovedfunktion, funktion, hovedart, gruppering)


YDELSER: tuple[Ydelse, ...] = (
    Ydelse("1.1", "Aktivitets- og beskæftigelsestilbud", "SEL §104 Aktivitets- og samværstilbud", "SEL § 104",
           "Aktivitets- og samværsydelse (§ 104 i Serviceloven)", _k("1", "5", "38", "59", "≠0", "1,2,3")),
    Ydelse("1.3", "Behandlingstilbud", "SEL § 102 Behandling", "SEL §102", "Behandling (§ 102 i Serviceloven)",
           _k("1", "5", "38", "39", "≠0", "6,7,8")),
    Ydelse("1.4", "Aktivitets- og beskæftigelsestilbud", "SEL §103.1 Beskyttet beskæftigelse", "SEL § 103",
           "Beskyttet beskæftigelsesydelse (§ 103 i Serviceloven)", _k("1", "5", "38", "58", "≠0", "1,2,3")),
    Ydelse("1.8.1", "Længerevarende botilbud", "SEL §108 Længerevarende botilbud", "SEL § 108",
           "Længerevarende ophold (§ 108 i Serviceloven)", _k("1", "5", "38", "50", "≠0", "1,2,3")),
    Ydelse("1.8.2", "Midlertidige botilbud", "SEL §107 Midlertidige botilbud", "SEL § 107",
           "Midlertidigt ophold (§ 107 i Serviceloven)", _k("1", "5", "38", "52", "≠0", "1,2,3")),
    Ydelse("1.12.0.1", "Længerevarende botilbud", "ABL §105 Jf. SEL 85 Botilbudsligende tilbud", "ABL § 105/SEL § 85",
           "Socialpædagogisk støtte i botilbudslignende tilbud (§ 85 i Serviceloven)",
           _k("1", "5", "38", "51", "≠0", "1,2,3")),
    Ydelse("1.12.0.2", "Socialpædagogisk støtte", "SEL §85 Hjemmevejleder og optræning", "SEL § 85",
           "Socialpædagogisk støtte i eget hjem (§ 85 i Serviceloven)", _k("1", "5", "38", "39", "≠0", "3,4,5")),
    Ydelse("1.13.2", "BPA", "SEL § 96 Personlig støtte og pasning af personer med handicap", "SEL § 96",
           "Borgerstyret personlig assistance (BPA) (§ 96 i Serviceloven)", _k("1", "5", "38", "39", "≠0", "2")),
    Ydelse("1.13.3", "Person- og ledsagerordninger", "SEL § 98 Kontaktperson for døvblinde", "SEL § 98",
           "Kontaktperson for døvblinde (§ 98 i Serviceloven)", _k("1", "5", "38", "53", "≠0", "4")),
    Ydelse("1.13.4", "Person- og ledsagerordninger", "SEL § 97 Ledsageordning", "SEL § 97",
           "Ledsageordning (§ 97 i Serviceloven)", _k("1", "5", "38", "53", "≠0", "3")),
    Ydelse("1.17", "Øvrige", "SEL § 95 Kontant tilskud efter", "SEL § 95",
           "Kontant tilskud til ansættelse af hjælpere (§ 95 i Serviceloven)", _k("1", "5", "38", "39", "≠0", "1")),
    Ydelse("1.18.1", "Socialpædagogisk støtte", "SEL §82a Gruppebaseret socialpædagogisk hjælp og støtte",
           "SEL § 82a", "Gruppebaseret socialpædagogisk hjælp og støtte (2020K3-)", _k("1", "5", "38", "39", "≠0", "11")),
    Ydelse("1.18.2", "Socialpædagogisk støtte", "SEL § 82b Individuel tidsbegrænset socialpædagogisk hjælp og støtte",
           "SEL § 82b", "Individuel tidsbegrænset socialpædagogisk hjælp og støtte (2020K3-)",
           _k("1", "5", "38", "39", "≠0", "12")),
)


def kontoplan_bro() -> tuple[tuple[str, str, str, str, str, str, str], ...]:
    """The seed's bridge as the many-to-many it is: one row per (ydelse, gruppering).

    The cubes do not join through it (a forløb is not booked on a gruppering; expenses are, and
    a join would count a 1.1 recipient three times): they carry each ydelse's one funktion and
    its list of grupperinger (docs/data-layout.md). It is here for whoever joins expense data.
    """
    return tuple(
        (y.kode, k.dranst, k.hovedkonto, k.hovedfunktion, k.funktion, k.hovedart, g)
        for y in YDELSER for k in (y.kontering,) for g in k.grupperinger
    )


NO_KONTERING = "ingen"  # the kontoplan levels of an invalid ydelse code
NO_DATE = "ingen"  # dato uden overlap of a line that has no overlap to end
INVALID_YDELSE_KATEGORI = "Ugyldig ydelseskode"

# --- Målgrupper (seed section 6.4): the codes come from one data file ----------------------

MAALGRUPPE_FILE = "voksenhandicap_maalgrupper.csv"  # beside the cube models (the schema directory)
HOVEDGRUPPER = ("Fysisk handicap", "Psykisk handicap", "Socialt problem")  # the seed's three groups


@dataclass(frozen=True, slots=True)
class Maalgruppe:
    kode: str
    navn: str
    hovedgruppe: str


class MaalgruppeListError(ValueError):
    """The målgruppe file cannot be used: ``path`` and ``problem`` (naming the line)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def load_maalgrupper(path: Path) -> tuple[Maalgruppe, ...]:
    """The valid målgruppe codes from ``path`` (CSV: ``kode,tekst,hovedgruppe``; ``#`` lines are comments).

    A deployment replaces the file with Danmarks Statistik's complete list; a broken file stops
    the load with its name and line rather than flagging every forløb as invalid.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise MaalgruppeListError(path, f"cannot read the målgruppe list: {error.strerror or error}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(line for _n, line in numbered))
    if not rows or [c.strip() for c in rows[0]] != ["kode", "tekst", "hovedgruppe"]:
        raise MaalgruppeListError(path, "the header must be kode,tekst,hovedgruppe")
    found: dict[str, Maalgruppe] = {}
    for (n, _line), row in zip(numbered[1:], rows[1:], strict=True):
        if len(row) != 3 or not all(v.strip() for v in row):
            raise MaalgruppeListError(path, f"line {n}: expected three non-empty values: kode,tekst,hovedgruppe")
        kode, tekst, hovedgruppe = (v.strip() for v in row)
        if hovedgruppe not in HOVEDGRUPPER:
            raise MaalgruppeListError(path, f"line {n}: hovedgruppe {hovedgruppe!r} is not one of {', '.join(HOVEDGRUPPER)}")
        if kode in found:
            raise MaalgruppeListError(path, f"line {n}: the code {kode!r} is listed twice")
        found[kode] = Maalgruppe(kode, tekst, hovedgruppe)
    if not found:
        raise MaalgruppeListError(path, "the list holds no codes")
    return tuple(found.values())


def default_maalgrupper() -> tuple[Maalgruppe, ...]:
    """The list shipped with the cube models (what synthetic data draws from)."""
    return load_maalgrupper(DEFAULT_SCHEMA_DIR / MAALGRUPPE_FILE)


INVALID_MAALGRUPPE_HOVEDGRUPPE = "Ugyldig målgruppekode"

FUNKTIONSVURDERINGER: tuple[tuple[str, str], ...] = (
    ("A", "A: Intet problem"), ("B", "B: Let problem"), ("C", "C: Moderat problem"),
    ("D", "D: Svært problem"), ("E", "E: Fuldstændigt problem"), ("U", "Uoplyst"),
)

RESIDENTIAL = ("1.12.0.1", "1.8.1", "1.8.2")  # opholdsydelser: overlaps are flagged
SPS_EGET_HJEM = "1.12.0.2"
SPS_CONFLICTS = ("1.12.0.1", "1.8.1")
P107 = "1.8.2"

# --- Special rule for acting/paying kommune (seed section 6.5) -------------------------------

ISHOEJ, VALLENSBAEK, TAARNBY, DRAGOER = "183", "187", "185", "155"
SPECIAL_PARTNERS: dict[str, str] = {ISHOEJ: VALLENSBAEK, TAARNBY: DRAGOER}


def interpret_kommuner(handlekommune: str, betalingskommune: str | None) -> tuple[str, str]:
    """The business interpretation of a delivered (handle, betaling) pair.

    Ishøj may deliver Vallensbæk's data (and Tårnby Dragør's): handle Ishøj + betaling
    Vallensbæk means both are Vallensbæk. A missing betalingskommune ('Ikke angivet') means the
    handlekommune pays, for every kommune (the seed's table for Ishøj/Tårnby; servicelov §9).
    """
    betaling = betalingskommune or handlekommune
    partner = SPECIAL_PARTNERS.get(handlekommune)
    if partner is not None and betaling == partner:
        return partner, partner
    return handlekommune, betaling


def special_rule_sql(handle: str, betaling: str) -> tuple[str, str]:
    """SQL expressions for the interpreted (handle, betaling); arguments are column expressions."""
    paid = f"coalesce({betaling}, {handle})"
    pairs = " OR ".join(f"({handle} = '{h}' AND {paid} = '{p}')" for h, p in sorted(SPECIAL_PARTNERS.items()))
    # the interpreted betalingskommune is always the delivered one (or the handlekommune when
    # missing); only the handlekommune moves to the partner
    return f"CASE WHEN {pairs} THEN {paid} ELSE {handle} END", paid


# --- Harmonisation flags (seed section 6.6) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Regel:
    key: str
    dst_handling: str  # Fjernes | Rettes | Markeres | Ukendt
    tekst: str
    removed_in_benchmark: bool


# In priority order: a forløb that trips several rules is filed under the first (the
# Harmonisering VH dimension). The corrections and the overlap marks are kept apart from it
# (:class:`Opmaerkning`), so a deceased person's overlapping line is both ended and marked.
REGLER: tuple[Regel, ...] = (
    Regel("ugyldig_ydelse", "Fjernes", "Ugyldig ydelseskode", True),
    Regel("ugyldig_maalgruppe", "Fjernes", "Ugyldig målgruppekode", True),
    Regel("ingen_startdato", "Fjernes", "Ingen startdato", True),
    Regel("slut_foer_start", "Fjernes", "Slutdato før startdato", True),
    Regel("under_17", "Fjernes", "Under 17 år pr. 1. januar i startåret", True),
    Regel("doed", "Rettes", "Død: dødsdato er alternativ slutdato", False),
    Regel("overlap_ophold", "Markeres", "Overlappende opholdsydelser (1.12.0.1, 1.8.1, 1.8.2)", False),
    Regel("sps_og_ophold", "Rettes", "Socialpædagogisk støtte i eget hjem samtidig med ophold", False),
    Regel("ukendt", "Ukendt", "Ukendt", False),
)
UKENDT = "ukendt"
REGLER_BY_KEY = {r.key: r for r in REGLER}


def age_on(birth: date, day: date) -> int:
    """Whole years completed on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class Forloeb:
    """The fields the flags read; ``slutdato`` None means still open."""

    forloeb_id: str
    person: str
    ydelse_kode: str
    maalgruppe_kode: str
    foedselsdato: date
    startdato: date | None
    slutdato: date | None
    doedsdato: date | None = None


@dataclass(frozen=True, slots=True)
class Opmaerkning:
    """What DST's rules say about one forløb, worked out over all of the person's forløb.

    ``doed_slutdato``: the person's date of death, for a forløb still open when they died (the
    seed's "alternativ slutdato"). ``overlap_*``: the line, and the person, have overlapping
    opholdsydelser (1.12.0.1, 1.8.1, 1.8.2). ``sps_*``: the 1.12.0.2 line, and the person, have
    socialpædagogisk støtte i eget hjem while in 1.12.0.1 or 1.8.1. ``dato_uden_overlap``: the
    seed's "dato der gør at der ikke er overlap" for such a line, the day before the first of
    those stays that overlaps it begins; the benchmark ends the line there.
    """

    regel: str
    doed_slutdato: date | None = None
    overlap_linje: bool = False
    overlap_borger: bool = False
    sps_linje: bool = False
    sps_borger: bool = False
    dato_uden_overlap: date | None = None


def _removal(f: Forloeb, maalgruppe_koder: frozenset[str]) -> str | None:
    if f.ydelse_kode not in {y.kode for y in YDELSER}:
        return "ugyldig_ydelse"
    if f.maalgruppe_kode not in maalgruppe_koder:
        return "ugyldig_maalgruppe"
    if f.startdato is None:
        return "ingen_startdato"
    if f.slutdato is not None and f.slutdato < f.startdato:
        return "slut_foer_start"
    if age_on(f.foedselsdato, date(f.startdato.year, 1, 1)) < 17:
        return "under_17"
    return None


def _overlaps(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def harmonise(rows: list[Forloeb], as_of: date, maalgruppe_koder: frozenset[str]) -> dict[str, Opmaerkning]:
    """forloeb_id -> Opmaerkning, by the same definitions as :func:`harmonisation_sql`.

    Per person, not per line: the person's date of death is the latest one on any of their
    lines; overlaps are looked for among all their lines that DST keeps, with open lines of a
    deceased person ending on the date of death and other open lines on ``as_of``.
    """
    death: dict[str, date] = {}
    for f in rows:
        if f.doedsdato is not None and (f.person not in death or f.doedsdato > death[f.person]):
            death[f.person] = f.doedsdato
    removal = {f.forloeb_id: _removal(f, maalgruppe_koder) for f in rows}

    def doed_slut(f: Forloeb) -> date | None:
        d = death.get(f.person)
        return d if removal[f.forloeb_id] is None and f.slutdato is None and d is not None and d <= as_of else None

    period: dict[str, tuple[date, date]] = {}
    for f in rows:
        if removal[f.forloeb_id] is None and f.startdato is not None:
            period[f.forloeb_id] = (f.startdato, f.slutdato or doed_slut(f) or as_of)

    def overlapping(a: Forloeb, codes: tuple[str, ...]) -> list[Forloeb]:
        if a.forloeb_id not in period:
            return []
        return [b for b in rows if b.forloeb_id != a.forloeb_id and b.person == a.person and b.ydelse_kode in codes
                and b.forloeb_id in period and _overlaps(period[a.forloeb_id], period[b.forloeb_id])]

    overlap = {f.forloeb_id for f in rows if f.ydelse_kode in RESIDENTIAL and overlapping(f, RESIDENTIAL)}
    stays = {f.forloeb_id: overlapping(f, SPS_CONFLICTS) for f in rows if f.ydelse_kode == SPS_EGET_HJEM}
    sps = {fid for fid, found in stays.items() if found}
    overlap_persons = {f.person for f in rows if f.forloeb_id in overlap}
    sps_persons = {f.person for f in rows if f.forloeb_id in sps}

    result: dict[str, Opmaerkning] = {}
    for f in rows:
        fid = f.forloeb_id
        doed = doed_slut(f)
        if removal[fid] is not None:
            regel = removal[fid]
        elif doed is not None:
            regel = "doed"
        elif fid in overlap:
            regel = "overlap_ophold"
        elif fid in sps:
            regel = "sps_og_ophold"
        else:
            regel = UKENDT
        first_stay = min((b.startdato for b in stays.get(fid, []) if b.startdato is not None), default=None)
        result[fid] = Opmaerkning(
            regel=regel, doed_slutdato=doed, overlap_linje=fid in overlap, overlap_borger=f.person in overlap_persons,
            sps_linje=fid in sps, sps_borger=f.person in sps_persons,
            dato_uden_overlap=first_stay - timedelta(days=1) if first_stay is not None else None,
        )
    return result


def benchmark_period(f: Forloeb, o: Opmaerkning, as_of: date) -> tuple[date, date] | None:
    """The days the benchmark counts for a forløb DST keeps: to its end, its alternative end
    (date of death) or its date without overlap, whichever is first; None when nothing is left."""
    if f.startdato is None or REGLER_BY_KEY[o.regel].removed_in_benchmark:
        return None
    ends = [d for d in (f.slutdato or o.doed_slutdato, o.dato_uden_overlap) if d is not None]
    end = min([*ends, as_of])
    return (f.startdato, end) if f.startdato <= end else None


def harmonisation_params(as_of: date, maalgrupper: tuple[Maalgruppe, ...]) -> dict[str, object]:
    """The parameters :func:`harmonisation_sql` needs."""
    return {"as_of": as_of, "maalgrupper": [m.kode for m in maalgrupper]}


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def harmonisation_sql(source: str) -> str:
    """A SELECT adding the columns of :class:`Opmaerkning` to every row of ``source``.

    Needs the parameters of :func:`harmonisation_params`. ``source`` holds the delivered forløb
    (columns of the ``forloeb`` source file, with ``person`` the person key). Overlaps only
    consider forløb that DST keeps.
    """
    ydelser = _in(tuple(y.kode for y in YDELSER))
    return f"""
    WITH r AS (
      SELECT s.*,
        CASE
          WHEN ydelse_kode NOT IN {ydelser} THEN 'ugyldig_ydelse'
          WHEN NOT list_contains($maalgrupper, maalgruppe_kode) THEN 'ugyldig_maalgruppe'
          WHEN startdato IS NULL THEN 'ingen_startdato'
          WHEN slutdato < startdato THEN 'slut_foer_start'
          WHEN year(startdato) - year(foedselsdato)
               - CASE WHEN month(foedselsdato) = 1 AND day(foedselsdato) = 1 THEN 0 ELSE 1 END < 17
            THEN 'under_17'
        END AS removal,
        max(doedsdato) OVER (PARTITION BY person) AS borger_doedsdato
      FROM {source} s
    ), d AS (
      SELECT r.*, CASE WHEN removal IS NULL AND slutdato IS NULL AND borger_doedsdato <= $as_of::DATE
                       THEN borger_doedsdato END AS doed_slutdato
      FROM r
    ), kept AS (
      SELECT forloeb_id, person, ydelse_kode, startdato, coalesce(slutdato, doed_slutdato, $as_of::DATE) AS period_end
      FROM d WHERE removal IS NULL
    ), overlap AS (
      SELECT DISTINCT a.forloeb_id, a.person FROM kept a JOIN kept b ON a.person = b.person AND a.forloeb_id <> b.forloeb_id
      WHERE a.ydelse_kode IN {_in(RESIDENTIAL)} AND b.ydelse_kode IN {_in(RESIDENTIAL)}
        AND b.startdato <= a.period_end AND a.startdato <= b.period_end
    ), sps AS (
      SELECT a.forloeb_id, any_value(a.person) AS person, min(b.startdato) - 1 AS dato_uden_overlap
      FROM kept a JOIN kept b ON a.person = b.person AND a.forloeb_id <> b.forloeb_id
      WHERE a.ydelse_kode = '{SPS_EGET_HJEM}' AND b.ydelse_kode IN {_in(SPS_CONFLICTS)}
        AND b.startdato <= a.period_end AND a.startdato <= b.period_end
      GROUP BY a.forloeb_id
    )
    SELECT d.* EXCLUDE (removal, borger_doedsdato),
      CASE
        WHEN removal IS NOT NULL THEN removal
        WHEN doed_slutdato IS NOT NULL THEN 'doed'
        WHEN o.forloeb_id IS NOT NULL THEN 'overlap_ophold'
        WHEN sps.forloeb_id IS NOT NULL THEN 'sps_og_ophold'
        ELSE '{UKENDT}'
      END AS regel,
      o.forloeb_id IS NOT NULL AS overlap_linje,
      d.person IN (SELECT person FROM overlap) AS overlap_borger,
      sps.forloeb_id IS NOT NULL AS sps_linje,
      d.person IN (SELECT person FROM sps) AS sps_borger,
      sps.dato_uden_overlap
    FROM d LEFT JOIN overlap o ON o.forloeb_id = d.forloeb_id LEFT JOIN sps ON sps.forloeb_id = d.forloeb_id
    """


# The marks as dimension members: (key, borger, linje) for the person and the line.
MARKS: tuple[tuple[str, str, str], ...] = (("JJ", "Ja", "Ja"), ("JN", "Ja", "Nej"), ("NN", "Nej", "Nej"))


def mark_sql(linje: str, borger: str) -> str:
    return f"CASE WHEN {linje} THEN 'JJ' WHEN {borger} THEN 'JN' ELSE 'NN' END"


# --- Open §107 services by days open (seed section 6.6, "Yderligere opmærkninger") -----------

# (key, caption, lowest day, highest day or None). Days open counts both the start day and the
# reference day, so a service that started on the reference day is 1 day open. The seed says
# "færre en 100 dage" then "101 – 200 dage": no bucket would hold exactly 100, so the first
# bucket runs to 100 inclusive (every day count lands in exactly one bucket).
P107_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("0-100", "Færre end 100 dage", 0, 100),
    ("101-200", "101 – 200 dage", 101, 200),
    ("201-300", "201 – 300 dage", 201, 300),
    ("301-400", "301 – 400 dage", 301, 400),
    ("401-500", "401 – 500 dage", 401, 500),
    ("501-1000", "501 – 1000 dage", 501, 1000),
    ("1001+", "Mere end 1000 dage", 1001, None),
)
P107_NOT_RELEVANT = ("ikke_relevant", "Ikke relevant")


def p107_reference(as_of: date) -> date:
    """The seed's "sidste dag i seneste måned": the last day of the latest complete month of the
    data. Data as of 31 March counts to 31 March; data as of 15 April also to 31 March."""
    return last_complete_month_end(as_of)


def days_open(startdato: date, reference: date) -> int:
    return (reference - startdato).days + 1


def p107_bucket(ydelse_kode: str, startdato: date | None, slutdato: date | None, reference: date) -> str:
    """Bucket key for a forløb: only §107 services open on ``reference`` get a day bucket."""
    if ydelse_kode != P107 or startdato is None or startdato > reference:
        return P107_NOT_RELEVANT[0]
    if slutdato is not None and slutdato <= reference:
        return P107_NOT_RELEVANT[0]
    days = days_open(startdato, reference)
    for key, _caption, low, high in P107_BUCKETS:
        if days >= low and (high is None or days <= high):
            return key
    return P107_NOT_RELEVANT[0]


def p107_bucket_sql(ydelse: str, start: str, slut: str, reference: str) -> str:
    days = f"(date_diff('day', {start}, {reference}) + 1)"
    whens = " ".join(
        f"WHEN {days} <= {high} THEN '{key}'" if high is not None else f"ELSE '{key}'"
        for key, _caption, _low, high in P107_BUCKETS
    )
    return (
        f"CASE WHEN {ydelse} <> '{P107}' OR {start} IS NULL OR {start} > {reference} "
        f"OR ({slut} IS NOT NULL AND {slut} <= {reference}) THEN '{P107_NOT_RELEVANT[0]}' "
        f"ELSE CASE {whens} END END"
    )
