"""The caller's view of a cube: what the engine gets instead of loose flags."""

from __future__ import annotations

from model_fixtures import SCHEMA_DIR

from gateway.model import load_area
from gateway.model.view import exact_view, protected_view

VH = load_area(SCHEMA_DIR / "voksenhandicap.yaml")


def _levels(cube) -> set[str]:  # type: ignore[no-untyped-def]
    return {lv.name for d in cube.dimensions for h in d.hierarchies for lv in h.levels}


def test_the_protected_view_has_no_person_level_and_a_rule_bound_to_the_key() -> None:
    (cube,) = VH.kommune_cubes
    view = protected_view(cube, b"k" * 32)
    assert "Personnummer" in _levels(cube) and "Personnummer" not in _levels(view)
    assert view.dimension("Borger") is None  # a dimension left without levels goes too
    assert view.disclosure is not None and view.disclosure.secret == b"k" * 32
    assert cube.disclosure is not None and cube.disclosure.secret == b""  # the model itself is untouched
    assert (view.disclosure.threshold, view.disclosure.max_noise) == (cube.disclosure.threshold, cube.disclosure.max_noise)


def test_the_exact_view_keeps_person_level_and_drops_the_rule() -> None:
    (cube,) = VH.kommune_cubes
    view = exact_view(cube)
    assert _levels(view) == _levels(cube) and view.disclosure is None


def test_a_cube_without_a_rule_stays_exact_in_the_protected_view() -> None:
    (kl,) = load_area(SCHEMA_DIR / "kl_databank.yaml").benchmark_cubes
    assert protected_view(kl, b"k" * 32).disclosure is None  # published statistics
