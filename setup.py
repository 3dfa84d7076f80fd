"""Packages are found, never listed by hand (a missing entry once shipped a broken wheel): every
package under nasdsl/, every package under search/ (installed as nasdsl_search.*), plus grammar/ and
templates/; pyproject.toml's [tool.setuptools.package-dir] maps search/, grammar/ and templates/.
Everything else is in pyproject.toml."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["nasdsl", "nasdsl.*"])
      + ["nasdsl_search"] + [f"nasdsl_search.{p}" for p in find_packages(where="search")]
      + ["nasdsl.grammar", "nasdsl.templates"])
