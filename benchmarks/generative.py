"""Generative classifiers: jaxml.generative against scikit-learn's LDA, QDA and GaussianNB.

Task: fit + predict_proba on the same synthetic data, 1,000,000 rows × 50 features, 3 Gaussian classes
(float64 everywhere). Peers, each with the structure it implements:

* ``covariance="shared"``   vs ``LinearDiscriminantAnalysis(solver="lsqr")`` (its covariance_ is the same
  prior-weighted 1/Nₖ Σ; its priors are the class frequencies);
* ``covariance="full"``     vs ``QuadraticDiscriminantAnalysis()`` (scikit-learn ≥ 1.8 uses 1/Nₖ too);
* ``covariance="diagonal"`` vs ``GaussianNB(var_smoothing=0.0)`` (no variance floor, as ``reg=0``).

Both libraries get the same NumPy arrays and return NumPy probabilities; jaxml's time includes moving x onto
the device (in ``fit`` and again in ``predict_proba``), validation and the conversion back. On CPU a 64-byte-
aligned NumPy buffer is shared with XLA (zero-copy); NumPy only guarantees 16 bytes, so jaxml first copies an
unaligned x into an aligned buffer. Both are timed: "NumPy x" is the array as NumPy allocated it (two 400 MB
copies per fit + predict), "aligned x" the same values in a 64-byte-aligned buffer (no copy). "first call" includes
tracing and XLA compilation; "steady" is the median of the following calls. scikit-learn's time is the median of
its calls on the NumPy x. Max |Δp| is the largest absolute difference between the (N, 3) probability matrices.

Run: ``python -m benchmarks.generative`` (``--quick``: 100,000 rows, fewer repeats).
Timings are wall-clock on this machine; other processes sharing the CPU inflate them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import numpy as np


def make_data(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """K Gaussian classes with different covariances and unequal sizes, float64."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=np.arange(1, k + 1) / np.arange(1, k + 1).sum())
    x = np.empty((n, d))
    for c in range(k):
        rows = np.flatnonzero(y == c)
        a = np.eye(d) + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)  # well conditioned: QDA checks rank
        x[rows] = rng.normal(size=(len(rows), d)) @ a + rng.normal(size=d) * 0.3 + 5.0
    return x, y


def aligned_copy(x: np.ndarray, alignment: int = 64) -> np.ndarray:
    """The same values in a buffer whose address is a multiple of ``alignment`` bytes."""
    raw = np.empty(x.nbytes + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    out = raw[offset : offset + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def _time(fn: Callable[[], np.ndarray], repeats: int) -> tuple[list[float], np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generative", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows and fewer repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=None, help="steady-state calls per library")
    args = parser.parse_args(argv)

    import jax
    import sklearn
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
    from sklearn.naive_bayes import GaussianNB

    from jaxml import generative

    n = args.rows or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (2 if args.quick else 3)
    x, y = make_data(n, args.features, 3)
    xa = aligned_copy(x)
    print(
        f"{n:,} rows × {args.features} features, 3 classes, float64; jax {jax.__version__} "
        f"({jax.default_backend()}), scikit-learn {sklearn.__version__}; {os.cpu_count()} CPU cores; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    peers = {
        "shared": ("LinearDiscriminantAnalysis(solver='lsqr')", lambda: LinearDiscriminantAnalysis(solver="lsqr")),
        "full": ("QuadraticDiscriminantAnalysis()", lambda: QuadraticDiscriminantAnalysis()),
        "diagonal": ("GaussianNB(var_smoothing=0)", lambda: GaussianNB(var_smoothing=0.0)),
    }
    rows = []
    with jax.enable_x64(True):
        for kind, (peer_name, make_peer) in peers.items():

            def ours(data: np.ndarray, kind: str = kind) -> np.ndarray:
                model = generative.fit(data, y, kind)  # NumPy in, NumPy out, as for scikit-learn
                return np.asarray(generative.predict_proba(model, data))

            def theirs(make_peer: Callable = make_peer) -> np.ndarray:
                return make_peer().fit(x, y).predict_proba(x)

            first, _ = _time(lambda: ours(x), 1)
            steady, p_ours = _time(lambda: ours(x), repeats)
            steady_aligned, p_aligned = _time(lambda: ours(xa), repeats)
            sk_times, p_sk = _time(theirs, repeats)
            t_ours, t_al, t_sk = (float(np.median(t)) for t in (steady, steady_aligned, sk_times))
            gap = float(max(np.max(np.abs(p_ours - p_sk)), np.max(np.abs(p_aligned - p_sk))))
            rows.append((kind, peer_name, t_sk, t_ours, t_al, first[0], gap))
            print(
                f"  {kind:<8} scikit-learn {t_sk:7.3f} s   jaxml {t_ours:7.3f} s, aligned x {t_al:7.3f} s "
                f"(first call {first[0]:.3f} s)   speed-up {t_sk / t_ours:5.1f}× / {t_sk / t_al:5.1f}×   "
                f"max |Δp| {gap:.1e}",
                flush=True,
            )
    header = (
        "| jaxml covariance | scikit-learn peer | scikit-learn s | jaxml s, NumPy x | jaxml s, aligned x "
        "| jaxml s, first call | speed-up, NumPy x | speed-up, aligned x | speed-up, first call | max abs Δp |"
    )
    print()
    print(header)
    print("|" + "---|" * 10)
    for kind, peer, t_sk, t_ours, t_al, t_first, gap in rows:
        print(f"| {kind} | {peer} | {t_sk:.3f} | {t_ours:.3f} | {t_al:.3f} | {t_first:.3f} | {t_sk / t_ours:.1f}× "
              f"| {t_sk / t_al:.1f}× | {t_sk / t_first:.1f}× | {gap:.1e} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
