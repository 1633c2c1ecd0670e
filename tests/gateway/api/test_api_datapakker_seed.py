"""The seed's own KL Databank rows (seed 004, quoted verbatim in
tests/gateway/deliveries/seed_004_kl_databank_rows.tsv) go in through ``dataadgang load`` and
come out of ``GET /datapakker/kl_databank`` and ``dataadgang datapakke export`` byte for byte:
the same columns, order, ``dd-mm-yyyy`` dates and kommune numbers, ``;``-separated UTF-8 with
a byte-order mark and CRLF line ends (what Excel in a Danish locale opens as columns)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_world import World, build_world
from click.testing import CliRunner

from gateway.cli import main

SEED_ROWS = Path(__file__).resolve().parent.parent / "deliveries" / "seed_004_kl_databank_rows.tsv"
KOMMUNER = {"340": ("Sorø", "Sjælland"), "326": ("Kalundborg", "Sjælland"), "250": ("Frederikssund", "Hovedstaden"),
            "746": ("Skanderborg", "Midtjylland"), "741": ("Samsø", "Midtjylland"), "727": ("Odder", "Midtjylland")}


def expected_csv() -> bytes:
    """The seed's table as the delivered file must hold it, with the seed's tabs as ';'."""
    lines = SEED_ROWS.read_text(encoding="utf-8").splitlines()
    return ("\ufeff" + "".join(line.replace("\t", ";") + "\r\n" for line in lines)).encode("utf-8")


@pytest.fixture(scope="module")
def seed_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("seed-kl")
    source = root / "source"
    source.mkdir()
    (source / "kl_databank.csv").write_bytes(SEED_ROWS.read_bytes())  # the seed's rows, tab-separated as shown
    (source / "dim_kommune.csv").write_text(
        "kode,navn,region\n" + "".join(f"{k},{n},{r}\n" for k, (n, r) in KOMMUNER.items()), encoding="utf-8"
    )
    home = root / "data-home"
    loaded = CliRunner().invoke(
        main, ["--home", str(home), "load", "kl_databank", str(source), "--benchmark", "--as-of", "2021-11-09"]
    )
    assert loaded.exit_code == 0, loaded.output
    (home / "built").write_text("FLIS KL Databank", encoding="utf-8")
    with build_world(root / "world", home / "data") as world:
        yield world


def test_the_seed_rows_come_back_byte_for_byte_from_the_download(seed_world: World) -> None:
    user = seed_world.new_user("101", [("kl_databank", "aggregated")], prefix="seed")
    with seed_world.client(user) as client:
        response = client.get("/datapakker/kl_databank")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (name,) = archive.namelist()
        data = archive.read(name)
    assert name.startswith("DSA-101-844-20211109-") and name.endswith(".csv")
    assert data == expected_csv()


def test_the_operator_export_is_the_same_file(seed_world: World, tmp_path: Path) -> None:
    home = seed_world.settings.home
    result = CliRunner().invoke(
        main, ["--home", str(home), "datapakke", "export", "kl_databank", "--kommune", "101", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("DSA-101-844-20211109-*.zip")
    with zipfile.ZipFile(written) as archive:
        (name,) = archive.namelist()
        assert archive.read(name) == expected_csv()
    exports = [r.event for r in seed_world.store.audit_log().query() if r.event.operation == "datapakke.export"]
    assert len(exports) == 1 and exports[0].database == "FLIS KL Databank" and exports[0].cells == 18
    refused = CliRunner().invoke(main, ["--home", str(home), "datapakke", "export", "nope", "--kommune", "101"])
    assert refused.exit_code == 1 and "no data package 'nope'" in refused.output and "Traceback" not in refused.output
