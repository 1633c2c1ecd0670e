"""The YAML layer: syntax errors with a line, non-mappings, duplicate keys, no Python objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_fixtures import WriteModel

from gateway.errors import ModelError
from gateway.model import load_area


def refused(target: Path) -> ModelError:
    with pytest.raises(ModelError) as caught:
        load_area(target, label="schema/omr.yaml")
    assert caught.value.file == "schema/omr.yaml"
    return caught.value


def test_yaml_syntax_error_names_the_line(write_model: WriteModel) -> None:
    error = refused(write_model("id: omr\nname: Område\ngrant: [FLIS DAP Område\ndescription: x\n"))
    assert error.path.startswith("line ")
    assert error.problem.startswith("YAML syntax: ")
    line = int(error.path.split()[1].rstrip(","))
    assert 3 <= line <= 5


def test_tab_indentation_is_a_syntax_error_with_its_line(write_model: WriteModel) -> None:
    error = refused(write_model("id: omr\ndatabases:\n\tkommune: x\n"))
    assert error.path == "line 3, column 1"


def test_duplicate_key_is_refused_with_its_line(write_model: WriteModel) -> None:
    text = "id: omr\nname: Område\nname: Andet\n"
    error = refused(write_model(text))
    assert error.path == "line 3, column 1"
    assert "duplicate key 'name'" in error.problem


def test_duplicate_key_deep_inside_is_refused(write_model: WriteModel) -> None:
    text = "id: omr\nkommune_cubes:\n  - name: A\n    measures:\n      - {name: X, kind: sum, kind: count}\n"
    error = refused(write_model(text))
    assert error.path == "line 5, column 30"
    assert "duplicate key 'kind'" in error.problem


def test_merge_keys_may_override_merged_values(write_model: WriteModel) -> None:
    text = (
        "id: omr\nname: Område\ngrant: FLIS DAP Område\ndescription: x\n"
        "databases: {kommune: 'FLIS Område-{kode}'}\n"
        "kommune_cubes:\n"
        "  - name: A\n    fact_table: f\n    dimensions: []\n"
        "    measures:\n"
        "      - &base {name: X, kind: sum, column: x}\n"
        "      - {<<: *base, name: Y}\n"
    )
    area = load_area(write_model(text))
    assert [m.name for m in area.kommune_cubes[0].measures] == ["X", "Y"]


@pytest.mark.parametrize(
    ("text", "found"),
    [("- id: omr\n", "found a list"), ("just text\n", "found a str"), ("", "found an empty file"), ("# nothing\n", "found an empty file")],
    ids=["list", "scalar", "empty", "only_comment"],
)
def test_a_file_that_is_not_a_mapping_is_refused(write_model: WriteModel, text: str, found: str) -> None:
    error = refused(write_model(text))
    assert error.path == "(document)"
    assert "must hold a mapping" in error.problem and found in error.problem


def test_python_tags_are_refused_and_never_run(write_model: WriteModel, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"id: !!python/object/apply:os.system ['touch {marker}']\n"
    error = refused(write_model(text))
    assert error.path.startswith("line 1")
    assert "python/object/apply" in error.problem
    assert not marker.exists()


def test_file_that_is_not_utf8_is_refused(write_model: WriteModel) -> None:
    target = write_model("")
    target.write_bytes("id: omr\nname: Omr\xe5de\n".encode("latin-1"))
    error = refused(target)
    assert error.path == "(document)" and "not UTF-8" in error.problem
