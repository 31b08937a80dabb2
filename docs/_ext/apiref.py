"""The API reference's contents, computed from the code: which modules, which names, and the docstring rules.

The Sphinx build (``conf.py``) writes one page per module from :func:`api_modules` and
:func:`documented_names`; ``tests/test_docs.py`` holds every documented function to :func:`section_problems`.
This file imports no Sphinx, so the test suite runs without the ``docs`` extra.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import jaxml

_SECTION = re.compile(r"^(Args|Arguments|Returns|Yields|Raises|Example|Examples|Note|Notes|Attributes|References):\s*$")


def _public_submodules(package: ModuleType) -> list[str]:
    if not hasattr(package, "__path__"):
        return []
    found = pkgutil.iter_modules(package.__path__)
    return [f"{package.__name__}.{i.name}" for i in found if not i.name.startswith("_")]


def api_modules() -> list[str]:
    """Every module with a page: ``jaxml.experiments`` (the experiments' registry), jaxml's submodules, and the
    public modules of its subpackages whose names the package does not re-export (``jaxml.optim.schedules``,
    ``jaxml.data.pokemon``)."""
    found = ["jaxml.experiments"]  # the lecture experiments' registry: experiments/, installed under jaxml
    for short in jaxml.__all__:
        name = f"jaxml.{short}"
        module = importlib.import_module(name)
        found.append(name)
        exported = set(getattr(module, "__all__", ()))
        for sub in _public_submodules(module):
            names = set(getattr(importlib.import_module(sub), "__all__", ()))
            if not names <= exported:
                found.append(sub)
    return found


def documented_names(module: ModuleType) -> list[str]:
    """The public names of ``module``: its ``__all__`` (every documented module declares one), less submodules,
    which get pages of their own."""
    names = getattr(module, "__all__", None)
    if names is None:
        raise AttributeError(f"{module.__name__} declares no __all__")
    return [n for n in names if not inspect.ismodule(getattr(module, n))]


def _sections(doc: str) -> dict[str, list[str]]:
    """The Google-style sections of ``doc``: title → its lines (dedented one level)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in doc.splitlines():
        m = _SECTION.match(line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current is not None:
            if line and not line.startswith(" "):
                current = None
            else:
                out[current].append(line)
    return out


def _parameters(obj) -> list[str]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    names = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        prefix = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        names.append(prefix + p.name)
    return names


def section_problems(obj, qualname: str) -> list[str]:
    """What ``obj``'s docstring lacks: a docstring; for a function, ``Args:`` naming each parameter (``*args``
    and ``**kwargs`` with their stars) and ``Returns:``/``Yields:`` unless it is annotated ``-> None``."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return []
    doc = inspect.getdoc(obj) or ""
    if not doc.strip():
        return [f"{qualname}: no docstring"]
    if inspect.isclass(obj):
        return []
    problems = []
    sections = _sections(doc)
    params = _parameters(obj)
    if params:
        if "Args" not in sections:
            problems.append(f"{qualname}: no Args: section (parameters: {', '.join(params)})")
        else:
            listed = {re.split(r"[ :(]", line.strip(), maxsplit=1)[0] for line in sections["Args"]
                      if line.startswith("    ") and not line.startswith("     ") and line.strip()}
            missing = [p for p in params if p not in listed]
            if missing:
                problems.append(f"{qualname}: Args: does not list {', '.join(missing)}")
    returns_none = inspect.signature(obj).return_annotation in (None, "None")
    if not returns_none and "Returns" not in sections and "Yields" not in sections:
        problems.append(f"{qualname}: no Returns: section")
    return problems
