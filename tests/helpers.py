"""Shared by the experiment tests: run one experiment's quick variant and check its figures and claims."""

from __future__ import annotations

import os

import experiments
from jaxml.report import Result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quick(name: str, out: str | os.PathLike) -> Result:
    """``experiments.run(name, Config().quick())`` writing into ``out``.

    Asserts that every figure is a PNG and that every claim's verdict is the one the experiment declares for
    its quick variant: a claim that is reproduced and stops being reproduced fails here.
    """
    module = experiments.load(name)
    result = experiments.run(name, module.Config(out=str(out)).quick())
    assert result.figures, f"{name} wrote no figures"
    for fig in result.figures:
        with open(fig, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE, fig
    assert len(result.claims) == len(module.CLAIMS) and result.claims, f"{name} declares no claims"
    changed = [(v.id, v.holds, v.numbers) for v in result.claims if v.holds != v.expected]
    assert not changed, f"{name}: claims whose verdict differs from the declared one: {changed}"
    return result
