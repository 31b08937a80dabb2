"""Shared by the experiment tests: run one experiment in --quick mode and check its figures are real PNGs."""

from __future__ import annotations

import os

import experiments
from jaxml.report import Result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quick(name: str, out: str | os.PathLike) -> Result:
    """``experiments.<name>.main`` with ``quick=True`` writing into ``out``; asserts every figure is a PNG."""
    module = experiments.load(name)
    result = module.main(module.Config(quick=True, out=str(out)))
    assert result.figures, f"{name} wrote no figures"
    for fig in result.figures:
        with open(fig, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE, fig
    return result
