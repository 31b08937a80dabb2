"""Lecture experiments: one module per result, run with ``python -m experiments <name>`` from a checkout
(``python -m jaxml.experiments <name>`` from an installed wheel).

Each module defines (see :mod:`jaxml.report`):

* ``DESCRIPTION`` (one line) and ``SECTION`` (the syllabus section it covers, e.g. ``"1.4"``);
* ``Config``, a frozen dataclass deriving from :class:`jaxml.report.ExperimentConfig`, with ``QUICK`` overrides
  for its smoke-test variant (``Config().quick()``);
* ``CLAIMS``, the lecture claims it tests (:class:`jaxml.report.Claim`);
* ``compute(config) -> Result``: the numbers, tables and arrays (writes no file);
* ``figures(result, out) -> list[path]``: the figures, drawn through :mod:`jaxml.plot` into the folder ``out``.

:func:`run` joins them: compute, evaluate the claims on the metrics, draw. Modules are discovered, so adding an
experiment is adding a file; the tour runs them in syllabus order.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from jaxml.report import ExperimentConfig, Result, evaluate

__all__ = ["load", "names", "run"]

REQUIRED = ("DESCRIPTION", "SECTION", "Config", "CLAIMS", "compute", "figures")


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split("."))


def _module_names() -> list[str]:
    return [i.name for i in pkgutil.iter_modules(__path__) if not i.name.startswith("_")]


def names() -> list[str]:
    """All experiment names, in syllabus order (then by name).

    Returns:
        list[str]: the module names of the experiments, sorted by their ``SECTION`` (then by name).
    """
    found = [(_section_key(importlib.import_module(f"{__name__}.{n}").SECTION), n) for n in _module_names()]
    return [name for _, name in sorted(found)]


def load(name: str) -> ModuleType:
    """Import experiment ``name``.

    Args:
        name: an experiment's module name (one of :func:`names`).

    Returns:
        ModuleType: the experiment module, with ``DESCRIPTION``, ``SECTION``, ``Config``, ``CLAIMS``, ``compute``
        and ``figures``.

    Raises:
        ValueError: if there is no experiment ``name`` (the message lists the valid names).
        TypeError: if the module lacks one of the required names.
    """
    valid = _module_names()
    if name not in valid:
        raise ValueError(f"unknown experiment {name!r}; expected one of: {', '.join(sorted(valid))}")
    module = importlib.import_module(f"{__name__}.{name}")
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise TypeError(f"experiment module {name!r} lacks {', '.join(missing)}")
    return module


def run(name: str, config: ExperimentConfig) -> Result:
    """Experiment ``name`` with ``config``: compute, the claims' verdicts, then the figures in ``out/<name>``.

    Args:
        name: an experiment's module name (one of :func:`names`).
        config: its ``Config`` (``module.Config()``, ``.quick()``, or with fields replaced).

    Returns:
        Result: the numbers, the verdicts of the experiment's claims (computed from the numbers) and the paths of
        the figures written.

    Raises:
        ValueError: if there is no experiment ``name``.
        TypeError: if ``config`` is not that experiment's ``Config``.
    """
    module = load(name)
    if not isinstance(config, module.Config):
        raise TypeError(f"config must be a {name}.Config, got {type(config).__name__}")
    result = module.compute(config)
    result.claims = evaluate(module.CLAIMS, result.metrics, replicates=result.replicates, quick=config.is_quick)
    result.figures = [str(path) for path in module.figures(result, config.out_dir(name))]
    return result
