"""The kommune list: the codes a database name may carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import LoadError
from gateway.model import Kommune, load_kommuner

HEADER = "kode,navn,region,indbyggere_ca\n"


def write(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "kommuner.csv"
    target.write_text(text, encoding="utf-8")
    return target


def test_a_file_of_kommuner_is_read_in_order(tmp_path: Path) -> None:
    target = write(tmp_path, HEADER + "101,København,Hovedstaden,654000\n851,Aalborg,Nordjylland,220000\n")
    assert load_kommuner(target) == (
        Kommune("101", "København", "Hovedstaden", 654000),
        Kommune("851", "Aalborg", "Nordjylland", 220000),
    )


@pytest.mark.parametrize(
    ("text", "row", "column", "problem"),
    [
        ("kode,navn\n101,København\n", 1, None, "expected the columns"),
        (HEADER + "1010,X,Y,1\n", 2, "kode", "not three digits"),
        (HEADER + "10a,X,Y,1\n", 2, "kode", "not three digits"),
        (HEADER + "101,X,Y,1\n101,Z,Y,1\n", 3, "kode", "appears twice"),
        (HEADER + "101,,Y,1\n", 2, None, "must not be empty"),
        (HEADER + "101,X,Y,mange\n", 2, "indbyggere_ca", "not a whole number"),
        (HEADER + "101,X,Y,²\n", 2, "indbyggere_ca", "not a whole number"),
    ],
    ids=["header", "four_digits", "letters", "duplicate", "empty_name", "population_text", "population_superscript"],
)
def test_a_broken_kommune_file_names_row_and_column(
    tmp_path: Path, text: str, row: int, column: str | None, problem: str
) -> None:
    with pytest.raises(LoadError) as caught:
        load_kommuner(write(tmp_path, text))
    assert (caught.value.row, caught.value.column) == (row, column)
    assert problem in caught.value.problem
    assert caught.value.file == str(tmp_path / "kommuner.csv")
