"""Lecture experiments: one module per result, run with ``python -m experiments <name>``.

Each module defines ``DESCRIPTION`` (one line), ``SECTION`` (the syllabus section it reproduces, e.g. ``"1.4"``),
``Config`` (a dataclass deriving from :class:`jaxml.report.ExperimentConfig`) and ``main(config) -> Result``.
Modules are discovered, so adding an experiment is adding a file; the tour runs them in syllabus order.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split("."))


def names() -> list[str]:
    """All experiment names, in syllabus order (then by name)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = load(info.name)
        found.append((_section_key(module.SECTION), info.name))
    return [name for _, name in sorted(found)]


def load(name: str) -> ModuleType:
    """Import experiment ``name``; a ``ValueError`` lists the valid names when it does not exist."""
    if name.startswith("_") or not any(i.name == name for i in pkgutil.iter_modules(__path__)):
        valid = ", ".join(i.name for i in pkgutil.iter_modules(__path__) if not i.name.startswith("_"))
        raise ValueError(f"unknown experiment {name!r}; expected one of: {valid}")
    module = importlib.import_module(f"{__name__}.{name}")
    for attr in ("DESCRIPTION", "SECTION", "Config", "main"):
        if not hasattr(module, attr):
            raise TypeError(f"experiment module {name!r} lacks {attr}")
    return module
