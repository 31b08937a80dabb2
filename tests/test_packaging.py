"""What the wheel installs: one top-level package, ``jaxml``, with every subpackage and the experiments.

The wheel itself is built and installed in a fresh venv by ``.ci/wheel_check`` (CI); this test keeps the
declared package list in step with the tree, offline.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import jaxml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_wheel_lists_every_subpackage_and_no_generic_top_level():
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {"jaxml"} | {i.name for i in pkgutil.walk_packages(jaxml.__path__, "jaxml.") if i.ispkg}
    assert found - declared == set(), f"subpackages the wheel would leave out: {sorted(found - declared)}"
    assert {p.split(".")[0] for p in declared} == {"jaxml"}, "the wheel must not install generic top-level packages"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"jaxml.experiments": "experiments"}
    assert "jaxml.experiments" in declared


def test_the_experiments_run_under_both_names():
    """``python -m experiments`` (checkout) and ``python -m jaxml.experiments`` (wheel) list the same tour."""
    import importlib

    checkout = importlib.import_module("experiments")
    installed = importlib.import_module("jaxml.experiments")  # the editable install maps it onto experiments/
    assert Path(installed.__file__).resolve() == Path(checkout.__file__).resolve()
    assert installed.names() == checkout.names() and checkout.names()[0] == "linear_regression"


def test_license_and_metadata():
    project = PYPROJECT["project"]
    assert (ROOT / project["license"]["file"]).read_text().startswith("MIT License")
    assert "License :: OSI Approved :: MIT License" in project["classifiers"]
    floors = {d.split(">=")[0]: d.split(">=")[1] for d in project["dependencies"] if ">=" in d}
    # the code uses optax.tree.zeros_like and optax.safe_increment, which older optax lacks
    assert tuple(int(p) for p in floors["optax"].split(".")) >= (0, 2, 5)
