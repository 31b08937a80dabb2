"""Curvature benchmark: jaxml's matrix-free Hessian spectra against PyHessian, plus dense and large-model timings.

Tasks (all on scikit-learn's 1,797 digits, x/16, softmax cross-entropy, ReLU MLPs, CPU):

1. MLP 64-256-256-10 (85,002 parameters), the same weights in JAX and PyTorch: the top-5 Hessian eigenvalues
   by jaxml (Lanczos, full reorthogonalization, one compiled program) against PyHessian's
   ``hessian(model, criterion, data=(inputs, targets), cuda=False).eigenvalues(top_n=5, maxIter=100,
   tol=1e-3)`` (power iteration with deflation), and the trace (Hutchinson) against PyHessian's ``trace()``.
   Both in float32 (PyTorch's default), so the race is like for like; a float64 Lanczos with a tight
   tolerance is the reference for both answers.
2. H·v time / gradient time on the same model (jitted, median of repeats): the JVP of the gradient
   (forward-over-reverse) and the linearized product that Lanczos reuses.
3. The dense Hessian + its spectrum (eigvalsh) of an MLP 64-48-48-10 (5,962 parameters), float64; and the
   top-5 by Lanczos against that dense answer.
4. Top-5 of an MLP 64-1024-1024-10 (1,126,410 parameters): time and the extra memory. Lanczos keeps its
   basis, (m+1)·P numbers for m steps; the peak RSS increase is measured and compared with that and with the
   (k+2)·P of deflated power iteration.

Run: ``python -m benchmarks.curvature`` (``--quick`` skips the 1M-parameter model and repeats less).
Timings are wall-clock on this machine; other processes sharing the CPU inflate them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _mlp(hidden: tuple[int, ...], seed: int, dtype):
    import jax

    from jaxml import models

    model = models.mlp(64, list(hidden), 10, activation=jax.nn.relu)
    # Initialize in float32 whatever the mode (x64 draws other random numbers), then cast: same weights.
    with jax.enable_x64(False):
        params = jax.tree_util.tree_map(np.asarray, model.init(jax.random.key(seed)))
    return model, jax.tree_util.tree_map(lambda a: jax.numpy.asarray(a, dtype), params)


def _objective(model):
    from jaxml import losses, train

    return train.supervised(model.apply, losses.softmax_cross_entropy)


def bench_pyhessian(params_np: list[dict[str, np.ndarray]], x: np.ndarray, y: np.ndarray, repeats: int) -> dict:
    import torch
    from pyhessian import hessian

    torch.set_num_threads(2)
    layers = []
    for i, layer in enumerate(params_np):
        lin = torch.nn.Linear(*layer["w"].shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer["w"].T)))
            lin.bias.copy_(torch.from_numpy(layer["b"]))
        layers.append(lin)
        if i < len(params_np) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    criterion = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    out = {}
    t_top, t_tr, n_tr = [], [], []
    for r in range(repeats):
        torch.manual_seed(r)
        t = time.perf_counter()
        comp = hessian(model, criterion, data=(inputs, targets), cuda=False)
        vals, _ = comp.eigenvalues(top_n=5, maxIter=100, tol=1e-3)
        t_top.append(time.perf_counter() - t)
        t = time.perf_counter()
        comp = hessian(model, criterion, data=(inputs, targets), cuda=False)
        traces = comp.trace(maxIter=100, tol=1e-3)
        t_tr.append(time.perf_counter() - t)
        n_tr.append(len(traces))
    out["top5"] = np.sort(np.asarray(vals))[::-1]
    out["top5_s"] = float(np.median(t_top))
    out["trace"] = float(np.mean(traces))
    # PyHessian stops when the running mean changes by < tol relative, so the sample count varies by run
    out["trace_samples"] = "/".join(map(str, n_tr))
    out["trace_s"] = float(np.median(t_tr))
    with torch.no_grad():
        out["loss"] = float(criterion(model(inputs), targets))
    return out


def bench_jaxml_top5(x: np.ndarray, y: np.ndarray, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    from jaxml import curvature

    model, params = _mlp((256, 256), 0, jnp.float32)
    f = _objective(model)
    data = (jnp.asarray(x), jnp.asarray(y.astype(np.int32)))
    out = {"params": curvature.num_params(params), "loss": float(f(params, data))}
    key = jax.random.key(1)

    def top5() -> curvature.Eigenpairs:
        res = curvature.eigenpairs(f, params, 5, data=data, key=key, tol=1e-3, max_steps=100)
        jax.block_until_ready(res.eigenvalues)
        return res

    t = time.perf_counter()
    res = top5()
    out["top5_first_s"] = time.perf_counter() - t
    out["top5_s"] = _median_time(top5, repeats)
    out["top5"] = np.asarray(res.eigenvalues)
    out["top5_hvps"] = res.num_hvps

    def trace() -> curvature.TraceEstimate:
        return curvature.hutchinson_trace(f, params, data=data, key=key, tol=1e-2, max_samples=100)

    t = time.perf_counter()
    tr = trace()
    out["trace_first_s"] = time.perf_counter() - t
    out["trace_s"] = _median_time(trace, repeats)
    out["trace"], out["trace_stderr"], out["trace_hvps"] = tr.trace, tr.stderr, tr.num_hvps

    # H·v and gradient timings (jitted, compiled before timing)
    theta, unravel = curvature.ravel(params)
    v = jax.random.normal(jax.random.key(2), theta.shape, theta.dtype)
    loss = jax.jit(lambda p: f(p, data))
    grad = jax.jit(jax.grad(lambda p: f(p, data)))
    hvp = jax.jit(lambda p, v: curvature.hvp(lambda q: f(q, data), p, v))
    _, lin = jax.linearize(jax.grad(lambda t: f(unravel(t), data)), theta)
    lin = jax.jit(lin)
    vp = unravel(v)
    for fn in (lambda: loss(params), lambda: grad(params), lambda: hvp(params, vp), lambda: lin(v)):
        jax.block_until_ready(fn())
    n = 5 * repeats
    out["loss_ms"] = 1e3 * _median_time(lambda: jax.block_until_ready(loss(params)), n)
    out["grad_ms"] = 1e3 * _median_time(lambda: jax.block_until_ready(grad(params)), n)
    out["hvp_ms"] = 1e3 * _median_time(lambda: jax.block_until_ready(hvp(params, vp)), n)
    out["lin_ms"] = 1e3 * _median_time(lambda: jax.block_until_ready(lin(v)), n)
    out["params_np"] = [{k: np.asarray(a, np.float32) for k, a in layer.items()} for layer in params]
    return out


def reference_top5(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """A tight float64 Lanczos (residual ≤ 1e-8·‖H‖) and a long Hutchinson run as the reference answers."""
    import jax
    import jax.numpy as jnp

    from jaxml import curvature

    with jax.enable_x64(True):
        model, params = _mlp((256, 256), 0, jnp.float64)
        f = _objective(model)
        data = (jnp.asarray(x, jnp.float64), jnp.asarray(y.astype(np.int32)))
        top = curvature.eigenpairs(f, params, 5, data=data, key=jax.random.key(3), tol=1e-8, max_steps=200)
        tr = curvature.hutchinson_trace(f, params, data=data, key=jax.random.key(4), tol=1e-4, max_samples=1000)
        return np.asarray(top.eigenvalues), tr.trace, tr.stderr


def bench_dense(x: np.ndarray, y: np.ndarray) -> dict:
    import jax
    import jax.numpy as jnp

    from jaxml import curvature

    out = {}
    with jax.enable_x64(True):
        model, params = _mlp((48, 48), 0, jnp.float64)
        f = _objective(model)
        data = (jnp.asarray(x, jnp.float64), jnp.asarray(y.astype(np.int32)))
        closed = lambda p: f(p, data)  # noqa: E731
        out["params"] = curvature.num_params(params)
        t = time.perf_counter()
        h = jax.block_until_ready(curvature.hessian(closed, params, chunk_size=512))
        out["hessian_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # jnp's eigvalsh (LAPACK syevd through jaxlib): here ~5× faster than NumPy's OpenBLAS build.
        lam = np.asarray(jax.block_until_ready(jnp.linalg.eigvalsh(h)))
        out["eigvalsh_s"] = time.perf_counter() - t
        t = time.perf_counter()
        jax.block_until_ready(curvature.hessian(closed, params, chunk_size=512))
        out["hessian_warm_s"] = time.perf_counter() - t
        out["dense_top5"] = lam[::-1][:5]
        p32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), params)
        d32 = (data[0].astype(jnp.float32), data[1])
        closed32 = lambda p: f(p, d32)  # noqa: E731
        jax.block_until_ready(curvature.hessian(closed32, p32, chunk_size=512))  # compile
        t = time.perf_counter()
        h32 = jax.block_until_ready(curvature.hessian(closed32, p32, chunk_size=512))
        out["hessian_f32_s"] = time.perf_counter() - t
        t = time.perf_counter()
        lam32 = np.asarray(jax.block_until_ready(jnp.linalg.eigvalsh(h32)), np.float64)
        out["eigvalsh_f32_s"] = time.perf_counter() - t
        out["f32_top5_relerr"] = float(np.max(np.abs(lam32[::-1][:5] - lam[::-1][:5]) / np.abs(lam[::-1][:5])))
        for dtype, tol, name in ((jnp.float64, 1e-3, "f64"), (jnp.float32, 1e-3, "f32")):
            p = jax.tree_util.tree_map(lambda a, dtype=dtype: a.astype(dtype), params)
            d = (data[0].astype(dtype), data[1])
            top = curvature.eigenpairs(f, p, 5, data=d, key=jax.random.key(5), tol=tol, max_steps=100)
            t = time.perf_counter()
            top = curvature.eigenpairs(f, p, 5, data=d, key=jax.random.key(5), tol=tol, max_steps=100)
            jax.block_until_ready(top.eigenvalues)
            out[f"lanczos_{name}_s"] = time.perf_counter() - t
            out[f"lanczos_{name}_hvps"] = top.num_hvps
            out[f"lanczos_{name}_relerr"] = float(
                np.max(np.abs(np.asarray(top.eigenvalues, np.float64) - lam[::-1][:5]) / np.abs(lam[::-1][:5]))
            )
    return out


def bench_large(x: np.ndarray, y: np.ndarray) -> dict:
    import jax
    import jax.numpy as jnp

    from jaxml import curvature

    model, params = _mlp((1024, 1024), 0, jnp.float32)
    f = _objective(model)
    data = (jnp.asarray(x), jnp.asarray(y.astype(np.int32)))
    p = curvature.num_params(params)
    jax.block_until_ready(f(params, data))
    jax.block_until_ready(jax.grad(f)(params, data))
    rss0 = _peak_rss_mb()
    t = time.perf_counter()
    top = curvature.eigenpairs(f, params, 5, data=data, key=jax.random.key(6), tol=1e-3, max_steps=60)
    jax.block_until_ready(top.eigenvalues)
    seconds = time.perf_counter() - t
    rss1 = _peak_rss_mb()
    return {
        "params": p,
        "seconds": seconds,
        "hvps": top.num_hvps,
        "top5": np.asarray(top.eigenvalues),
        "converged": top.converged,
        "peak_rss_increase_mb": rss1 - rss0,
        "basis_mb": (-(-(60 + 1) // 8) * 8) * p * 4 / 2**20,
        "k_plus_2_mb": 7 * p * 4 / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.curvature", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1M-parameter model, fewer repeats")
    parser.add_argument("--large-only", action="store_true", help="only task 4, printed as JSON")
    args = parser.parse_args(argv)
    if args.large_only:
        out = bench_large(*_digits())
        print(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()}))
        return 0
    repeats = 1 if args.quick else 3
    x, y = _digits()

    jx = bench_jaxml_top5(x, y, repeats)
    try:
        ph = bench_pyhessian(jx.pop("params_np"), x, y, repeats)
    except ImportError:
        print("PyTorch/PyHessian not installed (pip install -e '.[bench]'); skipping them", file=sys.stderr)
        ph = None
    ref_top5, ref_trace, ref_trace_se = reference_top5(x, y)
    dense = bench_dense(x, y)
    large = None
    if not args.quick:
        # a fresh process, so that its peak RSS measures this task alone
        cmd = [sys.executable, "-m", "benchmarks.curvature", "--large-only"]
        large = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        large["top5"] = np.asarray(large["top5"])

    def rel(a: np.ndarray) -> float:
        return float(np.max(np.abs(np.asarray(a, np.float64) - ref_top5) / np.abs(ref_top5)))

    print(f"\n1. MLP 64-256-256-10 ({jx['params']:,} parameters), 1,797 digits, cross-entropy, float32, CPU")
    print(f"   loss at these weights: jaxml {jx['loss']:.6f}" + (f", PyTorch {ph['loss']:.6f}" if ph else ""))
    print(f"   reference top-5 (float64 Lanczos, residual ≤ 1e-8‖H‖): {np.array2string(ref_top5, precision=6)}")
    print(f"   reference trace (float64 Hutchinson, 1e-4): {ref_trace:.4f} ± {ref_trace_se:.4f}\n")
    print(
        "| task | jaxml | PyHessian | PyHessian / jaxml | jaxml H·v | max rel. err. vs reference (jaxml / PyHessian) |"
    )
    print("|---|---|---|---|---|---|")
    ph_top = f"{ph['top5_s']:.3f} s" if ph else "—"
    ratio = f"{ph['top5_s'] / jx['top5_s']:.1f}×" if ph else "—"
    errs = f"{rel(jx['top5']):.1e} / {rel(ph['top5']):.1e}" if ph else f"{rel(jx['top5']):.1e} / —"
    print(f"| top-5 eigenvalues (warm) | {jx['top5_s']:.3f} s | {ph_top} | {ratio} | {jx['top5_hvps']} | {errs} |")
    ratio_first = f"{ph['top5_s'] / jx['top5_first_s']:.1f}×" if ph else "—"
    print(f"| top-5, first call (compile incl.) | {jx['top5_first_s']:.3f} s | {ph_top} | {ratio_first} | | |")
    if ph:
        tr_err = f"{abs(jx['trace'] - ref_trace) / ref_trace:.1e} / {abs(ph['trace'] - ref_trace) / ref_trace:.1e}"
        print(
            f"| trace, Hutchinson (warm) | {jx['trace_s']:.3f} s ({jx['trace_hvps']} H·v, ±{jx['trace_stderr']:.2f})"
            f" | {ph['trace_s']:.3f} s ({ph['trace_samples']} H·v) | {ph['trace_s'] / jx['trace_s']:.1f}× |"
            f" {jx['trace_hvps']} | {tr_err} |"
        )
        print(f"\n   jaxml top-5:     {np.array2string(jx['top5'], precision=6)}")
        print(f"   PyHessian top-5: {np.array2string(ph['top5'], precision=6)}")
        print(f"   traces: jaxml {jx['trace']:.4f}, PyHessian {ph['trace']:.4f}")
    print("\n2. H·v / gradient time, same model (jitted, median)\n")
    print("| quantity | ms | / gradient |")
    print("|---|---|---|")
    for name, key in (("loss", "loss_ms"), ("gradient", "grad_ms"), ("H·v: jvp of grad", "hvp_ms")):
        print(f"| {name} | {jx[key]:.2f} | {jx[key] / jx['grad_ms']:.2f} |")
    print(f"| H·v: linearized grad (Lanczos's product) | {jx['lin_ms']:.2f} | {jx['lin_ms'] / jx['grad_ms']:.2f} |")
    print(f"\n3. Dense Hessian of MLP 64-48-48-10 ({dense['params']:,} parameters), all digits, float64\n")
    print("| step | s |")
    print("|---|---|")
    print(f"| hessian (HVP columns, chunks of 512), first call | {dense['hessian_s']:.2f} |")
    print(f"| hessian, warm | {dense['hessian_warm_s']:.2f} |")
    print(f"| jnp.linalg.eigvalsh | {dense['eigvalsh_s']:.2f} |")
    print(f"| total (first call) | {dense['hessian_s'] + dense['eigvalsh_s']:.2f} |")
    print(f"| float32: hessian (warm) | {dense['hessian_f32_s']:.2f} |")
    print(f"| float32: eigvalsh | {dense['eigvalsh_f32_s']:.2f} |")
    print(
        f"| float32 total (warm; top-5 rel. err. vs float64 {dense['f32_top5_relerr']:.1e}) | "
        f"{dense['hessian_f32_s'] + dense['eigvalsh_f32_s']:.2f} |"
    )
    for name in ("f64", "f32"):
        print(
            f"| Lanczos top-5, {name}, tol 1e-3: {dense[f'lanczos_{name}_hvps']} H·v, "
            f"max rel. err. vs dense {dense[f'lanczos_{name}_relerr']:.1e} | {dense[f'lanczos_{name}_s']:.2f} |"
        )
    print(f"\n   dense top-5: {np.array2string(dense['dense_top5'], precision=6)}")
    if large:
        print(f"\n4. MLP 64-1024-1024-10 ({large['params']:,} parameters), all digits, float32, top-5\n")
        print(f"   time {large['seconds']:.1f} s, {large['hvps']} H·v, converged {large['converged']}")
        print(f"   top-5: {np.array2string(large['top5'], precision=5)}")
        print(
            f"   peak RSS increase over a gradient evaluation {large['peak_rss_increase_mb']:.0f} MiB; Lanczos "
            f"basis (m+1 rounded up to 8 rows)·P·4 B for max_steps m = 60: "
            f"{large['basis_mb']:.0f} MiB; (k+2)·P·4 B: {large['k_plus_2_mb']:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
