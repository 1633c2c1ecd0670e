"""The data commands: generate, load (and a refused load), list databases."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main


def test_generate_load_and_list(tmp_path: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    out = tmp_path / "src"
    result = runner.invoke(main, [*home, "generate", str(out), "--kommune", "825", "--area", "ukraine",
                                  "--area", "kl_databank", "--as-of", "2024-01-31", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert (out / "ukraine" / "825" / "haendelser.csv").is_file()
    result = runner.invoke(main, [*home, "load", "ukraine", str(out / "ukraine" / "825"), "--kommune", "825"])
    assert result.exit_code == 0, result.output
    assert "FLIS Ukraine-825: version 1, data as of 2024-01-31" in result.output
    result = runner.invoke(main, [*home, "load", "kl_databank", str(out / "kl_databank" / "benchmark"), "--benchmark"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(main, [*home, "load", "ukraine", str(out / "ukraine" / "825"), "--kommune", "101"])
    assert refused.exit_code == 1
    assert "the current version keeps serving" in refused.output and "column 'fra_kommune'" in refused.output
    listed = runner.invoke(main, [*home, "databases"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert [line.split("\t")[:3] for line in lines if not line.startswith(" ")] == [
        ["FLIS KL Databank", "v1", "2024-01-31"], ["FLIS Ukraine-825", "v1", "2024-01-31"]]
    # the model's default aggregation, built by the load, listed under its database with its size
    under_ukraine = lines[lines.index(next(x for x in lines if x.startswith("FLIS Ukraine-825"))) + 1:]
    table, size = under_ukraine[0].strip().split("\t")
    assert table.startswith("aggregation agg_maaned_alder_koen_") and size.endswith(" rows")
    assert 0 < int(size.split()[0].replace(",", ""))


def test_load_needs_exactly_one_of_kommune_and_benchmark(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "load", "kl_databank", str(tmp_path), "--kommune", "101"])
    assert result.exit_code == 2 and "no kommune database" in result.output
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "load", "borger", str(tmp_path)])
    assert result.exit_code == 2 and "exactly one" in result.output
