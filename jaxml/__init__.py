"""jaxml: the foundations of machine learning (Hung-yi Lee's course) as a pure, compiled JAX codebase.

Models and losses are pure functions, training is one compiled program (:mod:`jaxml.train`), optimizers are
Optax gradient transformations (:mod:`jaxml.optim`), and curvature tools find Hessian eigenvalues at critical
points (:mod:`jaxml.curvature`). Submodules are imported on first use: ``from jaxml import losses, train``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "checkpoint", "classification", "curvature", "data", "distributed", "generative", "io", "losses", "models",
    "optim", "plot", "report", "sharding", "surfaces", "train",
)  # fmt: skip


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import jaxml` cheap and let `jaxml.plot` set matplotlib's backend only when used.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_SUBMODULES)
