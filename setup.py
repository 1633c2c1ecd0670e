"""Packaging beyond pyproject.toml: the top-level ``schema/`` ships inside the wheel as ``gateway.schema``.

The product's layout keeps the cube models at the top of the repository (``schema/``); an
installed gateway finds them as package data of ``gateway.schema`` (see ``gateway.settings``).
Everything else is declared in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gateway", "gateway.*", "admin", "admin.*"]), "gateway.schema"],
    package_dir={"gateway.schema": "schema"},
)
