"""Shared by the tests: run one experiment's quick variant and check its figures and claims; count XLA compiles."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from jax import monitoring

import experiments
from jaxml.report import Result

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def xla_compiles() -> Iterator[list[str]]:
    """The XLA compilations that happen inside the block (one entry per compiled program)."""
    seen: list[str] = []
    listener = lambda event, duration, **kw: seen.append(kw.get("fun_name", "?")) if event == COMPILE_EVENT else None
    monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        monitoring.unregister_event_duration_listener(listener)

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
