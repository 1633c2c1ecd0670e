"""A cube as one caller may see it: the view the service layer hands the engine.

Two variants exist (the access decision picks one): exact, for an individual grant in the
user's own kommune's database, and protected, for everyone else. The engine reads nothing but
the view, so it is the only enforcement of the person-level rule and of disclosure control.
"""

from __future__ import annotations

import dataclasses

from gateway.model.types import Cube, Dimension, Hierarchy


def exact_view(cube: Cube) -> Cube:
    """As modelled, person-level levels included, and without disclosure control."""
    return dataclasses.replace(cube, disclosure=None)


def protected_view(cube: Cube, key: bytes) -> Cube:
    """No person-level levels at all (a hierarchy or dimension left empty goes too), and the
    cube's disclosure rule, if the model gives it one, bound to the deployment's key."""
    dimensions: list[Dimension] = []
    for dimension in cube.dimensions:
        hierarchies: list[Hierarchy] = []
        for hierarchy in dimension.hierarchies:
            levels = tuple(level for level in hierarchy.levels if not level.individual)
            if levels:
                hierarchies.append(dataclasses.replace(hierarchy, levels=levels))
        if hierarchies:
            dimensions.append(dataclasses.replace(dimension, hierarchies=tuple(hierarchies)))
    rule = cube.disclosure
    return dataclasses.replace(
        cube,
        dimensions=tuple(dimensions),
        disclosure=None if rule is None else dataclasses.replace(rule, secret=key),
    )
