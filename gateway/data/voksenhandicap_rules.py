"""Voksenhandicap business rules: the special rule for acting/paying kommune, Danmarks
Statistik's harmonisation flags and the open-§107 buckets (seed ``003_085d78dcf7f112e7``).

Each rule exists once as data here and is rendered both as a plain Python function (easy to
test on a hand-made row) and as DuckDB SQL (how the loader applies it to every row). The tests
check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# --- Ydelser (seed section 6.1) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ydelse:
    kode: str
    kategori: str
    lovhjemmel: str  # the seed's "Lovhjemmel" column
    paragraf: str
    dst_navn: str  # name in Statistikbanken HAND07


YDELSER: tuple[Ydelse, ...] = (
    Ydelse("1.1", "Aktivitets- og beskæftigelsestilbud", "SEL §104 Aktivitets- og samværstilbud", "SEL § 104",
           "Aktivitets- og samværsydelse (§ 104 i Serviceloven)"),
    Ydelse("1.3", "Behandlingstilbud", "SEL § 102 Behandling", "SEL §102", "Behandling (§ 102 i Serviceloven)"),
    Ydelse("1.4", "Aktivitets- og beskæftigelsestilbud", "SEL §103.1 Beskyttet beskæftigelse", "SEL § 103",
           "Beskyttet beskæftigelsesydelse (§ 103 i Serviceloven)"),
    Ydelse("1.8.1", "Længerevarende botilbud", "SEL §108 Længerevarende botilbud", "SEL § 108",
           "Længerevarende ophold (§ 108 i Serviceloven)"),
    Ydelse("1.8.2", "Midlertidige botilbud", "SEL §107 Midlertidige botilbud", "SEL § 107",
           "Midlertidigt ophold (§ 107 i Serviceloven)"),
    Ydelse("1.12.0.1", "Længerevarende botilbud", "ABL §105 Jf. SEL 85 Botilbudsligende tilbud", "ABL § 105/SEL § 85",
           "Socialpædagogisk støtte i botilbudslignende tilbud (§ 85 i Serviceloven)"),
    Ydelse("1.12.0.2", "Socialpædagogisk støtte", "SEL §85 Hjemmevejleder og optræning", "SEL § 85",
           "Socialpædagogisk støtte i eget hjem (§ 85 i Serviceloven)"),
    Ydelse("1.13.2", "BPA", "SEL § 96 Personlig støtte og pasning af personer med handicap", "SEL § 96",
           "Borgerstyret personlig assistance (BPA) (§ 96 i Serviceloven)"),
    Ydelse("1.13.3", "Person- og ledsagerordninger", "SEL § 98 Kontaktperson for døvblinde", "SEL § 98",
           "Kontaktperson for døvblinde (§ 98 i Serviceloven)"),
    Ydelse("1.13.4", "Person- og ledsagerordninger", "SEL § 97 Ledsageordning", "SEL § 97",
           "Ledsageordning (§ 97 i Serviceloven)"),
    Ydelse("1.17", "Øvrige", "SEL § 95 Kontant tilskud efter", "SEL § 95",
           "Kontant tilskud til ansættelse af hjælpere (§ 95 i Serviceloven)"),
    Ydelse("1.18.1", "Socialpædagogisk støtte", "SEL §82a Gruppebaseret socialpædagogisk hjælp og støtte",
           "SEL § 82a", "Gruppebaseret socialpædagogisk hjælp og støtte (2020K3-)"),
    Ydelse("1.18.2", "Socialpædagogisk støtte", "SEL § 82b Individuel tidsbegrænset socialpædagogisk hjælp og støtte",
           "SEL § 82b", "Individuel tidsbegrænset socialpædagogisk hjælp og støtte (2020K3-)"),
)
INVALID_YDELSE_KATEGORI = "Ugyldig ydelseskode"

# --- Målgrupper (seed section 6.4; the sub-categories are ours, the seed names only the groups)


@dataclass(frozen=True, slots=True)
class Maalgruppe:
    kode: str
    navn: str
    hovedgruppe: str


MAALGRUPPER: tuple[Maalgruppe, ...] = (
    Maalgruppe("F1", "Fysisk funktionsnedsættelse", "Fysisk handicap"),
    Maalgruppe("F2", "Synsnedsættelse", "Fysisk handicap"),
    Maalgruppe("F3", "Hørenedsættelse", "Fysisk handicap"),
    Maalgruppe("F4", "Erhvervet hjerneskade", "Fysisk handicap"),
    Maalgruppe("P1", "Udviklingshæmning", "Psykisk handicap"),
    Maalgruppe("P2", "Autismespektrumforstyrrelse", "Psykisk handicap"),
    Maalgruppe("P3", "Sindslidelse", "Psykisk handicap"),
    Maalgruppe("P4", "ADHD", "Psykisk handicap"),
    Maalgruppe("S1", "Hjemløshed", "Socialt problem"),
    Maalgruppe("S2", "Stofmisbrug", "Socialt problem"),
    Maalgruppe("S3", "Alkoholmisbrug", "Socialt problem"),
)
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


# In priority order: a forløb that trips several rules is filed under the first.
REGLER: tuple[Regel, ...] = (
    Regel("ugyldig_ydelse", "Fjernes", "Ugyldig ydelseskode", True),
    Regel("ugyldig_maalgruppe", "Fjernes", "Ugyldig målgruppekode", True),
    Regel("ingen_startdato", "Fjernes", "Ingen startdato", True),
    Regel("slut_foer_start", "Fjernes", "Slutdato før startdato", True),
    Regel("under_17", "Fjernes", "Under 17 år pr. 1. januar i startåret", True),
    Regel("doed", "Rettes", "Død: dødsdato er alternativ slutdato", False),
    Regel("overlap_ophold", "Markeres", "Overlappende opholdsydelser (1.12.0.1, 1.8.1, 1.8.2)", False),
    Regel("sps_og_ophold", "Markeres", "Socialpædagogisk støtte i eget hjem samtidig med ophold", False),
    Regel("ukendt", "Ukendt", "Ukendt", False),
)
UKENDT = "ukendt"


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


def _period(f: Forloeb, as_of: date) -> tuple[date, date] | None:
    if f.startdato is None or (f.slutdato is not None and f.slutdato < f.startdato):
        return None
    return f.startdato, f.slutdato or f.doedsdato or as_of


def _removal(f: Forloeb) -> str | None:
    if f.ydelse_kode not in {y.kode for y in YDELSER}:
        return "ugyldig_ydelse"
    if f.maalgruppe_kode not in {m.kode for m in MAALGRUPPER}:
        return "ugyldig_maalgruppe"
    if f.startdato is None:
        return "ingen_startdato"
    if f.slutdato is not None and f.slutdato < f.startdato:
        return "slut_foer_start"
    if age_on(f.foedselsdato, date(f.startdato.year, 1, 1)) < 17:
        return "under_17"
    return None


def harmonisation_flags(rows: list[Forloeb], as_of: date) -> dict[str, str]:
    """forloeb_id -> rule key, by the same definitions as :func:`harmonisation_sql`."""
    kept = [f for f in rows if _removal(f) is None]

    def overlaps(a: Forloeb, codes: tuple[str, ...]) -> bool:
        pa = _period(a, as_of)
        for b in kept:
            pb = _period(b, as_of)
            if b.forloeb_id != a.forloeb_id and b.person == a.person and b.ydelse_kode in codes and pa and pb:
                if pa[0] <= pb[1] and pb[0] <= pa[1]:
                    return True
        return False

    flags: dict[str, str] = {}
    for f in rows:
        removal = _removal(f)
        if removal is not None:
            flags[f.forloeb_id] = removal
        elif f.doedsdato is not None and f.slutdato is None and f.doedsdato <= as_of:
            flags[f.forloeb_id] = "doed"
        elif f.ydelse_kode in RESIDENTIAL and overlaps(f, RESIDENTIAL):
            flags[f.forloeb_id] = "overlap_ophold"
        elif f.ydelse_kode == SPS_EGET_HJEM and overlaps(f, SPS_CONFLICTS):
            flags[f.forloeb_id] = "sps_og_ophold"
        else:
            flags[f.forloeb_id] = UKENDT
    return flags


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def harmonisation_sql(source: str) -> str:
    """A SELECT adding ``regel`` to every row of ``source`` (needs the parameter ``$as_of``).

    ``source`` holds the delivered forløb (columns of the ``forloeb`` source file, with
    ``person`` the person key). Overlaps only consider forløb that DST keeps.
    """
    ydelser = _in(tuple(y.kode for y in YDELSER))
    maalgrupper = _in(tuple(m.kode for m in MAALGRUPPER))
    return f"""
    WITH r AS (
      SELECT s.*,
        CASE
          WHEN ydelse_kode NOT IN {ydelser} THEN 'ugyldig_ydelse'
          WHEN maalgruppe_kode NOT IN {maalgrupper} THEN 'ugyldig_maalgruppe'
          WHEN startdato IS NULL THEN 'ingen_startdato'
          WHEN slutdato < startdato THEN 'slut_foer_start'
          WHEN year(startdato) - year(foedselsdato)
               - CASE WHEN month(foedselsdato) = 1 AND day(foedselsdato) = 1 THEN 0 ELSE 1 END < 17
            THEN 'under_17'
        END AS removal,
        coalesce(slutdato, doedsdato, $as_of::DATE) AS period_end
      FROM {source} s
    ), kept AS (SELECT forloeb_id, person, ydelse_kode, startdato, period_end FROM r WHERE removal IS NULL),
    overlap AS (
      SELECT DISTINCT a.forloeb_id FROM kept a JOIN kept b ON a.person = b.person AND a.forloeb_id <> b.forloeb_id
      WHERE a.ydelse_kode IN {_in(RESIDENTIAL)} AND b.ydelse_kode IN {_in(RESIDENTIAL)}
        AND b.startdato <= a.period_end AND a.startdato <= b.period_end
    ), sps AS (
      SELECT DISTINCT a.forloeb_id FROM kept a JOIN kept b ON a.person = b.person AND a.forloeb_id <> b.forloeb_id
      WHERE a.ydelse_kode = '{SPS_EGET_HJEM}' AND b.ydelse_kode IN {_in(SPS_CONFLICTS)}
        AND b.startdato <= a.period_end AND a.startdato <= b.period_end
    )
    SELECT r.* EXCLUDE (removal, period_end),
      CASE
        WHEN removal IS NOT NULL THEN removal
        WHEN doedsdato IS NOT NULL AND slutdato IS NULL AND doedsdato <= $as_of::DATE THEN 'doed'
        WHEN r.forloeb_id IN (SELECT forloeb_id FROM overlap) THEN 'overlap_ophold'
        WHEN r.forloeb_id IN (SELECT forloeb_id FROM sps) THEN 'sps_og_ophold'
        ELSE '{UKENDT}'
      END AS regel
    FROM r
    """


# --- Open §107 services by days open (seed section 6.6, "Yderligere opmærkninger") -----------

# (key, caption, lowest day, highest day or None). Days open counts both the start day and the
# reference day (data as of), so a service that started on the reference day is 1 day open.
# The seed says "færre end 100" then "101 – 200": we put exactly 100 days in the first bucket.
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


def days_open(startdato: date, reference: date) -> int:
    return (reference - startdato).days + 1


def p107_bucket(ydelse_kode: str, startdato: date | None, slutdato: date | None, reference: date) -> str:
    """Bucket key for a forløb: only open (or not yet ended) §107 services get a day bucket."""
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
