"""Plant one-line bugs in a scratch copy of the repository, one at a time, and see which tests catch them.

Not collected by pytest (no ``test_`` prefix) and not part of the suite: run it by hand,

    python tests/mutation/run_mutations.py [--only ID ...] [--list]

It copies the working tree (without .git) to a temporary directory once, then for every mutation replaces one
exact string (which must occur exactly once) in one file, runs the listed test files with ``-x`` (stage 1,
the cheap oracle files; stage 2 only if stage 1 missed it), restores the file, and prints a table: caught by
which test, or survived. A mutant that breaks import or collection counts as "error", not as caught.

"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutant import NUMERICS, ROOT, TRAIN, Mutation  # noqa: E402  (the one definition of a mutation)

M = Mutation
MUTATIONS = [
    # ---- the 11 bugs of issue 14
    M(
        "I1 guard applies the bad update",
        "jaxml/train.py",
        [
            (
                "                ok,\n                lambda: (new_params",
                "                True,\n                lambda: (new_params",
            )
        ],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I2 val metric on train data",
        "jaxml/train.py",
        [
            (
                'record[f"val_{name}"] = m(params, model_state, metric_val)',
                'record[f"val_{name}"] = m(params, model_state, metric_data)',
            )
        ],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I3 permutation not re-drawn",
        "jaxml/train.py",
        [("jax.random.fold_in(key, e), n_train)", "jax.random.fold_in(key, 0), n_train)")],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I4 val_loss with pre-epoch params",
        "jaxml/train.py",
        [("fn(params, model_state, metric_val, None)[0]", "fn(state.params, model_state, metric_val, None)[0]")],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I5 partial batch wrapped in",
        "jaxml/train.py",
        [
            ("    steps = n_train // batch_size\n", "    steps = -(-n_train // batch_size)\n"),
            (
                "jax.random.permutation(jax.random.fold_in(key, e), n_train)[: steps * batch_size]",
                "jnp.tile(jax.random.permutation(jax.random.fold_in(key, e), n_train), 2)[: steps * batch_size]",
            ),
        ],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I6 sweep stops when any run diverges",
        "jaxml/train.py",
        [
            (
                "bool(np.all(sharding.to_host(s.diverged_epoch) >= 0))",
                "bool(np.any(sharding.to_host(s.diverged_epoch) >= 0))",
            )
        ],
        TRAIN,
        ["tests/test_train.py"],
    ),
    M(
        "I7 checkpoint checksum not verified",
        "jaxml/checkpoint.py",
        [('            if checksum(tree) != run["checksum"][name]:', "            if False:")],
        ["tests/test_checkpoint.py"],
    ),
    M(
        "I8 critical: no ||g|| in zero tolerance",
        "jaxml/curvature/critical.py",
        [("tol = max(rtol * scale, gnorm)", "tol = rtol * scale")],
        NUMERICS,
        ["tests/test_curvature.py"],
    ),
    M(
        "I10 mlp init 1/fan_in",
        "jaxml/models.py",
        [("/ np.sqrt(fan_in)", "/ fan_in")],
        NUMERICS,
        ["tests/test_models.py"],
    ),
    M(
        "I11 Hessian symmetrization dropped",
        "jaxml/curvature/hessian.py",
        [("return (h + h.T) / 2", "return h")],
        NUMERICS,
        ["tests/test_curvature.py"],
    ),
    # ---- train
    M(
        "T1 fold_in(key, e + 1)",
        "jaxml/train.py",
        [("jax.random.fold_in(key, e), n_train)", "jax.random.fold_in(key, e + 1), n_train)")],
        TRAIN,
    ),
    M(
        "T2 int seed off by one",
        "jaxml/_checks.py",
        [
            (
                "        return jax.random.wrap_key_data(_seed_data(seed))\n",
                "        return jax.random.wrap_key_data(_seed_data(seed + 1))\n",
            )
        ],
        TRAIN,
    ),
    M("T3 train_loss = last batch loss", "jaxml/train.py", [("jnp.mean(batch_losses))}", "batch_losses[-1])}")], TRAIN),
    M("T4 diverged step off by one", "jaxml/train.py", [("~ok, i, bad_step)", "~ok, i + 1, bad_step)")], TRAIN),
    M(
        "T5 guard ignores the gradient",
        "jaxml/train.py",
        [("jnp.isfinite(loss) & _tree_all_finite(grads) & ", "jnp.isfinite(loss) & ")],
        TRAIN,
    ),
    M(
        "T6 guard ignores the new params",
        "jaxml/train.py",
        [("_tree_all_finite(grads) & _tree_all_finite(new_params) &", "_tree_all_finite(grads) &")],
        TRAIN,
    ),
    M("T7 guard ignores the loss", "jaxml/train.py", [("ok = jnp.isfinite(loss) & ", "ok = ")], TRAIN),
    M(
        "T8 guard by the sum of squares (overflows in float16)",
        "jaxml/train.py",
        [
            (
                "jnp.isfinite(functools.reduce(jnp.maximum, (jnp.max(jnp.abs(leaf)) for leaf in leaves)))",
                "jnp.isfinite(sum(jnp.sum(jnp.square(leaf)) for leaf in leaves))",
            )
        ],
        TRAIN,
        ["tests/test_train_contract.py"],
    ),
    M(
        "T9 val_loss on train data",
        "jaxml/train.py",
        [
            (
                'record["val_loss"] = fn(params, model_state, metric_val, None)[0]',
                'record["val_loss"] = fn(params, model_state, metric_data, None)[0]',
            )
        ],
        TRAIN,
    ),
    M(
        "T10 train metric with pre-epoch params",
        "jaxml/train.py",
        [("m(params, model_state, metric_data)", "m(state.params, model_state, metric_data)")],
        TRAIN,
    ),
    M(
        "T13 one step key for the whole epoch",
        "jaxml/train.py",
        [
            (
                "    return jax.random.split(jax.random.fold_in(epoch_key, 1), steps)",
                "    return jnp.stack([jax.random.fold_in(epoch_key, 1)] * steps)",
            )
        ],
        ["tests/test_train_contract.py"],
    ),
    M(
        "T14 aux recorded from the last step",
        "jaxml/train.py",
        [
            (
                'record[f"train_{name}"] = jnp.where(diverged, jnp.nan, jnp.mean(values))',
                'record[f"train_{name}"] = jnp.where(diverged, jnp.nan, values[-1])',
            )
        ],
        ["tests/test_train_contract.py"],
    ),
    M(
        "T15 fingerprint without the initial values",
        "jaxml/checkpoint.py",
        [('        "params_content": value_fingerprint(params),\n', "")],
        ["tests/test_checkpoint.py"],
    ),
    M(
        "T16 model state not carried to the next step",
        "jaxml/train.py",
        [
            (
                "                lambda: (new_params, new_model_state, new_opt_state),",
                "                lambda: (new_params, model_state, new_opt_state),",
            )
        ],
        ["tests/test_train_contract.py"],
    ),
    M(
        "T11 diverged epoch keeps its loss",
        "jaxml/train.py",
        [("jnp.where(diverged, jnp.nan, jnp.mean(batch_losses))", "jnp.mean(batch_losses)")],
        TRAIN,
    ),
    M(
        "T12 permutation drops the first examples",
        "jaxml/train.py",
        [("n_train)[: steps * batch_size]", "n_train)[n_train - steps * batch_size :]")],
        TRAIN,
    ),
    # ---- curvature
    M(
        "L1 Lanczos: one Gram-Schmidt pass",
        "jaxml/curvature/_lanczos.py",
        [("    c2 = live * (basis @ w)\n    w = w - c2 @ basis\n", "    c2 = 0.0 * c1\n")],
        NUMERICS,
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L2 Lanczos: no fresh direction after a breakdown",
        "jaxml/curvature/_lanczos.py",
        [("            lz.fresh(rng)  # an invariant subspace", "            pass  # an invariant subspace")],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L3 Lanczos: answer at the first convergence, no probe",
        "jaxml/curvature/_lanczos.py",
        [
            (
                "        cleared = ok and probed and _cleared(values, residuals, cand[wanted], k, which, tol * scale)",
                "        cleared = ok",
            )
        ],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L4 Lanczos: the probe's test without its residual",
        "jaxml/curvature/_lanczos.py",
        [("hi = values[-1] + residuals[-1] <=", "hi = values[-1] <=")],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L5 Lanczos: thick restart keeps the other end",
        "jaxml/curvature/_lanczos.py",
        [
            (
                "np.sort(_wanted(values, per_end, which))",
                "np.sort(_wanted(values, per_end, {'top': 'bottom'}.get(which, 'top')))",
            )
        ],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L6 Lanczos: residuals without the couplings to locked rows",
        "jaxml/curvature/_lanczos.py",
        [
            (
                "np.hypot(self.t[j, j - 1] * s[-1], np.linalg.norm(self.t[:a, a:j] @ s, axis=0))",
                "np.abs(self.t[j, j - 1] * s[-1])",
            )
        ],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L7 Lanczos: restart forgets the locked rows' couplings",
        "jaxml/curvature/_lanczos.py",
        [("        self.t[:a, a : a + c] = couplings\n", "")],
        ["tests/test_curvature_degenerate.py", "tests/test_curvature_limits.py"],
    ),
    M(
        "L8 quadrature weights from the last row",
        "jaxml/curvature/_lanczos.py",
        [("    return values, s[0] ** 2, lz.hvps", "    return values, s[-1] ** 2, lz.hvps")],
        ["tests/test_curvature.py"],
    ),
    M(
        "K4 dense spectrum: Householder vector without its unit entry",
        "jaxml/curvature/critical.py",
        [("        v[0] = 1.0\n", "")],
        ["tests/test_curvature_limits.py"],
    ),
    M(
        "C4 batched HVP weight ignores remainder",
        "jaxml/curvature/_core.py",
        [("total, full)[0] * (batch_size / n)", "total, full)[0] / (n // batch_size)")],
        NUMERICS,
        ["tests/test_curvature.py"],
    ),
    M(
        "C5 tail HVP weighted as a full batch",
        "jaxml/curvature/_core.py",
        [("batch_hvp(tail) * (np.shape(tail[0])[0] / n)", "batch_hvp(tail) * (batch_size / n)")],
        NUMERICS,
        ["tests/test_curvature.py"],
    ),
    M(
        "C6 minimum ratio counts zeros",
        "jaxml/curvature/critical.py",
        [("ratio = n_pos / lam_np.size", "ratio = (n_pos + n_zero) / lam_np.size")],
        ["tests/test_curvature.py"],
    ),
    M(
        "C8 Hutchinson sample sums |z|",
        "jaxml/curvature/spectra.py",
        [
            (
                "return jnp.sum(z * jax.vmap(lambda v: _core.apply(op, v))(z), axis=1)",
                "return jnp.sum(jnp.abs(z * jax.vmap(lambda v: _core.apply(op, v))(z)), axis=1)",
            )
        ],
        ["tests/test_curvature.py"],
    ),
    # ---- optim
    M(
        "O1 bias correction exponent t-1",
        "jaxml/optim/transforms.py",
        [("jnp.expm1(count * log_beta)", "jnp.expm1((count - 1) * log_beta)")],
        ["tests/test_optim.py"],
    ),
    M(
        "O2 eps inside the root",
        "jaxml/optim/transforms.py",
        [("jnp.sqrt(s) + _cast(eps, s), sigma_sq)", "jnp.sqrt(s + _cast(eps, s)), sigma_sq)")],
        ["tests/test_optim.py"],
    ),
    M(
        "O3 heavy ball momentum sign",
        "jaxml/optim/transforms.py",
        [("keep, take = beta, 1.0\n", "keep, take = beta, -1.0\n")],
        ["tests/test_optim.py"],
    ),
    M(
        "O4 RMSProp first step not |g0|",
        "jaxml/optim/transforms.py",
        [("jnp.where(count == 1, 1.0, 1 - alpha)", "jnp.where(count == 0, 1.0, 1 - alpha)")],
        ["tests/test_optim.py"],
    ),
    M(
        "O5 schedule evaluated at t+1",
        "jaxml/optim/transforms.py",
        [("eta = learning_rate(state.count) if", "eta = learning_rate(state.count + 1) if")],
        ["tests/test_optim.py", "tests/test_schedules.py"],
    ),
    M(
        "O6 Adagrad mean over t+1 → t+2",
        "jaxml/optim/transforms.py",
        [("    take = 1.0 / count\n", "    take = 1.0 / (count + 1)\n")],
        ["tests/test_optim.py"],
    ),
    M(
        "O7 warmup-decay ramps to t/(W+1)",
        "jaxml/optim/schedules.py",
        [("rise = peak_value * t / max(warmup, 1)", "rise = peak_value * t / (warmup + 1)")],
        ["tests/test_schedules.py"],
    ),
    # ---- generative
    M(
        "G1 Cholesky log-det factor 1",
        "jaxml/_gaussian.py",
        [("logdet = 2.0 * xp.sum(", "logdet = 1.0 * xp.sum(")],
        ["tests/test_generative.py"],
    ),
    M(
        "G2 full covariance divides by N-1",
        "jaxml/_gaussian.py",
        [("scatter / counts[:, None, None] + reg", "scatter / (counts[:, None, None] - 1) + reg")],
        ["tests/test_generative.py"],
    ),
    M(
        "G3 shared covariance divides by N-K (pooled unbiased)",
        "jaxml/_gaussian.py",
        [("cov = (scatter / total + reg * eye)[None]", "cov = (scatter / (total - len(counts)) + reg * eye)[None]")],
        ["tests/test_generative.py"],
    ),
    M(
        "G4 priors uniform",
        "jaxml/_gaussian.py",
        [("priors=counts / total)", "priors=xp.ones_like(counts) / counts.shape[0])")],
        ["tests/test_generative.py"],
    ),
    M(
        "G5 pooled blocks drop the between-block scatter",
        "jaxml/_gaussian.py",
        [("return BlockMoments(counts, means, sb.sum(0) + between)", "return BlockMoments(counts, means, sb.sum(0))")],
        ["tests/test_generative.py"],
    ),
]


def all_mutations() -> list[Mutation]:
    """This file's mutations, then every ``mutants_*.py`` beside it (each defines ``MUTATIONS``); ids unique."""
    found = list(MUTATIONS)
    for path in sorted(Path(__file__).resolve().parent.glob("mutants_*.py")):
        module = importlib.import_module(path.stem)
        found += module.MUTATIONS
    ids = [m.id.split()[0] for m in found]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeated, f"mutation ids used twice: {repeated}"
    return found


def run_pytest(copy: Path, files: list[str], timeout: float) -> tuple[str, str]:
    """('caught', test) / ('survived', '') / ('error', reason) for one pytest run with -x."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", *files]
    try:
        proc = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "error", "timeout"
    out = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return "survived", ""
    failed = re.findall(r"^FAILED (\S+)", out, re.M)
    if proc.returncode == 1 and failed:
        return "caught", failed[0]
    return "error", (out.strip().splitlines() or ["?"])[-1][:120]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutation id prefixes to run (e.g. I1 T3)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per pytest run")
    args = parser.parse_args()
    chosen = [m for m in all_mutations() if not args.only or any(m.id.split()[0] == o for o in args.only)]
    if args.list:
        for m in chosen:
            print(m.id)
        return
    with tempfile.TemporaryDirectory(prefix="jaxml_mutant_") as tmp:
        copy = Path(tmp) / "repo"
        skip = shutil.ignore_patterns(".git", ".venv", "__pycache__", "results", ".ruff_cache")
        shutil.copytree(ROOT, copy, ignore=skip)
        rows = []
        for m in chosen:
            path = copy / m.file
            original = path.read_text()
            mutated = original
            for old, new in m.edits:
                assert mutated.count(old) == 1, f"{m.id}: {old!r} occurs {mutated.count(old)} times in {m.file}"
                mutated = mutated.replace(old, new)
            path.write_text(mutated)
            start = time.time()
            try:
                verdict, where = run_pytest(copy, m.stage1, args.timeout)
                if verdict == "survived" and m.stage2:
                    verdict, where = run_pytest(copy, m.stage2, args.timeout)
            finally:
                path.write_text(original)
            rows.append((m.id, verdict, where, time.time() - start))
            print(f"| {m.id} | {verdict} | {where} | {time.time() - start:.0f}s |", flush=True)
        caught = sum(r[1] == "caught" for r in rows)
        print(f"\n{caught}/{len(rows)} caught")


if __name__ == "__main__":
    main()
