"""The API reference covers every public name, and every public function documents its arguments and result.

The rules and the list of modules are the ones the Sphinx build uses (``docs/_ext/apiref.py``); the build
itself (``python -m sphinx -W docs docs/_build/html``) runs in CI next to this suite.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
import apiref  # noqa: E402

import jaxml  # noqa: E402

MODULES = apiref.api_modules()


def test_every_public_module_is_documented_or_reexported():
    """A public module of jaxml either has a page or its package's page documents all its names."""
    for info in pkgutil.walk_packages(jaxml.__path__, "jaxml."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        if info.name in MODULES:
            continue
        parent = importlib.import_module(info.name.rpartition(".")[0])
        assert parent.__name__ in MODULES, info.name
        missing = set(getattr(module, "__all__", ())) - set(parent.__all__)
        assert not missing, f"{info.name}: {sorted(missing)} are neither re-exported nor on a page of their own"


@pytest.mark.parametrize("name", MODULES)
def test_module_docstring_and_all(name):
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no module docstring"
    for attr in apiref.documented_names(module):
        assert hasattr(module, attr), f"{name}.__all__ names {attr!r}, which it does not define"


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_have_args_and_returns(name):
    module = importlib.import_module(name)
    problems = []
    for attr in apiref.documented_names(module):
        problems += apiref.section_problems(getattr(module, attr), f"{name}.{attr}")
    assert not problems, "\n".join(problems)


def test_the_rules_can_fail():
    """Negative control: a function without sections, and one whose Args skips a parameter, are reported."""

    def bare(x, *rest, **extra):
        """Nothing more."""

    def partial(x, y):
        """Sum.

        Args:
            x: one.

        Returns:
            x + y.
        """

    assert len(apiref.section_problems(bare, "bare")) == 2
    assert apiref.section_problems(partial, "partial") == ["partial: Args: does not list y"]
    assert inspect.isfunction(partial)
