"""Packages are found, never listed by hand (a missing entry once shipped a broken wheel): every
package under nasdsl/ and search/, plus grammar/ and templates/, which pyproject.toml's
[tool.setuptools.package-dir] ships inside nasdsl. Everything else is in pyproject.toml."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["nasdsl", "nasdsl.*", "search", "search.*"])
      + ["nasdsl.grammar", "nasdsl.templates"])
