"""The optimization experiments (course §4) in their quick variant: every claim's verdict is the declared one
(run_quick), and the numbers behind the claims are checked against independent oracles — closed forms of gradient
descent on a quadratic, NumPy re-implementations of the lecture's recurrences, optax's own optimizers and
schedules, and least squares by ``numpy.linalg.lstsq``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import PNG_SIGNATURE, run_quick

import experiments
from jaxml import surfaces


def run(name, tmp_path):
    result = run_quick(name, tmp_path)
    assert all(np.isfinite(v) or np.isinf(v) for v in result.metrics.values()), result.metrics
    return result


def _run_starts(name, tmp_path):
    """The quick run of an experiment replicated over random starts: metrics are finite numbers or None ("not
    reached"), never NaN or ∞."""
    result = run_quick(name, tmp_path)
    assert all(v is None or np.isfinite(v) for v in result.metrics.values()), result.metrics
    return result


def test_error_surface(tmp_path):
    r = _run_starts("error_surface", tmp_path)
    m, paths, rep = r.metrics, r.data["paths"], r.replicates
    cfg = experiments.load("error_surface").Config().quick()
    a, b = surfaces.ELONGATED_CURVATURE
    steps = cfg.steps
    x0, y0 = np.asarray(next(iter(paths.values())).theta[0], dtype=float)  # the first random start
    assert cfg.start_theta1[0] <= x0 <= cfg.start_theta1[1] and cfg.start_theta2[0] <= abs(y0) <= cfg.start_theta2[1]
    # gradient descent on a quadratic is geometric (closed form): θᵢᵀ = (1 − ηcᵢ)ᵀ θᵢ⁰
    for eta in (cfg.eta_large, cfg.eta_small):
        theta = paths[next(k for k in paths if k.startswith(f"GD, η = {eta:g}"))].theta
        np.testing.assert_allclose(
            theta[-1], [x0 * (1 - eta * a) ** steps, y0 * (1 - eta * b) ** steps], rtol=1e-3, atol=1e-30
        )
    # 1 − ηb < 0 for the large η: θ₂ changes sign at every update, from every start
    assert 1 - cfg.eta_large * b < 0 and m["gd_large_theta2_sign_flip_fraction_min"] == 1.0
    # the small η's progress along θ₁ is 1 − (1 − ηa)ᵀ whatever the start; its gradient keeps ≥ (1 − ηa)ᵀ of a|θ₁⁰|
    assert m["gd_small_theta1_progress_max"] == pytest.approx(1 - (1 - cfg.eta_small * a) ** steps, rel=1e-3)
    assert m["gd_small_final_grad_over_floor_grad_min"] >= (1 - cfg.eta_small * a) ** steps * (1 - 1e-4)
    # the distance after T steps falls with η below 2/b, so the best fixed η is the sweep's largest
    assert m["sweep_best_eta_median"] == pytest.approx(0.995 * 2 / b, rel=1e-6)
    assert len(rep["adaptive_worst_reach_margin"]) == cfg.replicates >= 10
    # the first start's "reached and settled" margin, recomputed in NumPy from the three adaptive paths
    d0, l0 = np.hypot(x0, y0), None
    margins = []
    for prefix in ("Adagrad", "RMSProp", "Adam"):
        p = paths[next(k for k in paths if k.startswith(prefix))]
        l0 = float(p.loss[0])
        dist, rel = np.hypot(*np.asarray(p.theta[-1], dtype=float)), float(p.loss[-1]) / l0
        margins.append(min(np.log10(cfg.tolerance * d0 / dist), np.log10(cfg.reach_loss / max(rel, 1e-300))))
    assert rep["adaptive_worst_reach_margin"][0] == pytest.approx(np.clip(min(margins), -10, 10), abs=1e-3)
    # our Adam is optax.adam (independent implementation) step after step
    ref = surfaces.trajectory(surfaces.elongated, optax.adam(cfg.eta_adam), jnp.asarray((x0, y0)), steps)
    adam = paths[next(k for k in paths if k.startswith("Adam"))]
    np.testing.assert_allclose(adam.theta[:50], np.asarray(ref.theta)[:50], rtol=1e-4, atol=1e-4)


def _heavy_ball(grad, start, eta, lam, steps):
    """The lecture's momentum in NumPy: m = λm − ηg(θ), θ = θ + m (λ = 0: plain gradient descent); all θᵗ."""
    theta, m, out = np.array(start, dtype=float), np.zeros(2), []
    for _ in range(steps + 1):
        out.append(theta.copy())
        m = lam * m - eta * grad(theta)
        theta = theta + m
    return np.array(out)


def _saddle_grad(theta):
    r = 1 - theta[0] * theta[1]
    return np.array([-2 * r * theta[1], -2 * r * theta[0]])


def _double_well_grad(theta):
    return np.array([4 * theta[0] ** 3 - 4 * theta[0] + surfaces.DOUBLE_WELL_TILT, 2 * theta[1]])


def test_momentum(tmp_path):
    r = _run_starts("momentum", tmp_path)
    m, rep, paths = r.metrics, r.replicates, r.data["paths"]
    cfg = experiments.load("momentum").Config().quick()
    low, barrier, local = surfaces.double_well_critical_points()  # roots of ∂L/∂θ₁ = 4θ₁³ − 4θ₁ + c
    assert m["starts"] == cfg.replicates == len(rep["global_momentum_minus_best_gd"]) >= 10
    runs = ((0.0, cfg.eta), (0.0, cfg.eta / (1 - cfg.lam)), (cfg.lam, cfg.eta))  # GD at η, at η/(1−λ), momentum
    # the first double-well start: each path ends in the basin the NumPy recurrence ends in, at a critical point
    dw = list(paths[surfaces.DOUBLE_WELL.name].values())
    for (lam, eta), p in zip(runs, dw):
        ref = _heavy_ball(_double_well_grad, np.asarray(p.theta[0]), eta, lam, cfg.steps)
        end = float(p.theta[-1, 0])
        assert (end < barrier) == (ref[-1, 0] < barrier)
        assert min(abs(end - low), abs(end - local)) < 1e-3
    g = [int(float(p.theta[-1, 0]) < barrier) for p in dw]
    assert rep["global_momentum_minus_best_gd"][0] == g[2] - max(g[0], g[1])
    # the first saddle start: updates to L < 0.01 from the NumPy heavy ball and plain GD (λ = 0), paired
    sd = list(paths[surfaces.SADDLE.name].values())
    hits = []
    for (lam, eta), p in zip(runs, sd):
        th = _heavy_ball(_saddle_grad, np.asarray(p.theta[0]), eta, lam, cfg.steps)
        loss = (1 - th[:, 0] * th[:, 1]) ** 2
        hits.append(int(np.argmax(loss < 0.01)) if np.any(loss < 0.01) else cfg.steps + 1)
    assert rep["saddle_updates_gd_same_eta_minus_momentum"][0] == pytest.approx(hits[0] - hits[2], abs=2)
    assert rep["saddle_updates_gd_effective_eta_minus_momentum"][0] == pytest.approx(hits[1] - hits[2], abs=2)


def test_rmsprop_crescent(tmp_path):
    r = _run_starts("rmsprop_crescent", tmp_path)
    m, d, rep = r.metrics, r.data, r.replicates
    cfg = experiments.load("rmsprop_crescent").Config().quick()
    ada = next(k for k in d["paths"] if k.startswith("Adagrad"))
    rms = next(k for k in d["paths"] if k.startswith("RMSProp"))
    g_ada = np.asarray(d["paths"][ada].grad)[:-1]  # the gradients each optimizer saw (the first random start)
    g_rms = np.asarray(d["paths"][rms].grad)[:-1]
    # Adagrad's σ² is the mean of all past g²; RMSProp's the lecture's recurrence from σ⁰ = |g⁰| (NumPy)
    np.testing.assert_allclose(d["sigma"][ada][-1] ** 2, np.mean(g_ada**2, axis=0), rtol=1e-3)
    s2 = g_rms[0] ** 2
    for g in g_rms[1:]:
        s2 = cfg.alpha * s2 + (1 - cfg.alpha) * g * g
    np.testing.assert_allclose(d["sigma"][rms][-1] ** 2, s2, rtol=1e-3)
    # the first start's paired effects, recomputed from its paths in NumPy
    dist = {k: np.linalg.norm(np.asarray(d["paths"][k].theta, dtype=float) - 1, axis=1) for k in (ada, rms)}
    assert rep["log2_closer_minus_2"][0] == pytest.approx(np.log2(dist[ada][-1] / dist[rms][-1]) - 2, abs=1e-4)
    near = {k: int(np.argmax(v < cfg.radius)) if np.any(v < cfg.radius) else cfg.steps + 1 for k, v in dist.items()}
    assert rep["steps_to_near_adagrad_minus_rmsprop"][0] == near[ada] - near[rms]
    assert m["starts"] == cfg.replicates == len(rep["log2_sigma_ratio_minus_1"])
    assert m["starts_near_adagrad"] is not None and 0 <= m["starts_near_adagrad"] <= m["starts"]


def test_adam_bursts(tmp_path):
    r = _run_starts("adam_bursts", tmp_path)
    m, d, rep = r.metrics, r.data, r.replicates
    cfg = experiments.load("adam_bursts").Config().quick()
    const = next(iter(d["paths"]))
    # σ₂ read from the state is √v̂₂, Adam's bias-corrected β₂-average of g₂² (NumPy; the first random start)
    g2 = np.asarray(d["paths"][const].grad)[:-1, 1].astype(float)
    v, vhat = 0.0, []
    for t, g in enumerate(g2, start=1):
        v = cfg.b2 * v + (1 - cfg.b2) * g * g
        vhat.append(v / (1 - cfg.b2**t))
    np.testing.assert_allclose(d["sigma2"][const][:300] ** 2, vhat[:300], rtol=1e-3)
    # the bursts, recounted from the loss: after first L < 1e-8·L⁰, upward crossings of 1e-5·L⁰
    loss = np.asarray(d["paths"][const].loss) / d["paths"][const].loss[0]
    t0 = int(np.argmax(loss < 1e-8))
    late = loss[t0:]
    bursts = int(np.sum((late[1:] > 1e-5) & (late[:-1] <= 1e-5)))
    assert d["first"]["bursts"][0] == bursts and rep["bursts_constant_minus_3"][0] == bursts - 3
    assert m["starts"] == cfg.replicates == len(rep["bursts_removed_by_decay"]) >= 10
    assert m["median_final_loss_decay"] < 1e-6 * m["median_final_loss_constant"]


def test_lr_schedules(tmp_path):
    r = run("lr_schedules", tmp_path)
    m, d = r.metrics, r.data
    steps = d["steps"]
    t = np.arange(steps)
    peak = float(d["etas"].max())
    # the gallery's schedules against optax's
    oracles = {
        "constant": optax.constant_schedule(peak),
        "exponential decay": optax.exponential_decay(peak, steps, 0.1),
        "cosine": optax.cosine_decay_schedule(peak, steps),
        "polynomial (p = 2)": optax.polynomial_schedule(peak, 0.0, 2.0, steps),
    }
    for name, oracle in oracles.items():
        np.testing.assert_allclose(d["schedules"][name][1], np.asarray(oracle(t)), rtol=1e-4, atol=1e-8, err_msg=name)
    # the best η of each schedule is the argmin of its geometric-mean final training loss (scipy's gmean) over
    # the η where no replicate diverged; the paired effects are differences of ln L at those η, replicate by
    # replicate (the same initialization and batch order)
    from scipy import stats

    best, logs, reps = {}, {}, r.replicates["log_loss_constant_minus_decay"].size
    assert reps >= 10
    for key, short in (("constant η", "constant"), ("cosine decay", "decay"), ("warm-up + cosine decay", "warmup")):
        loss = d["final_loss"][key]
        assert loss.shape == (len(d["etas"]), reps) and np.all(np.isfinite(loss)) and np.all(loss > 0)
        gm = np.where(d["diverged"][key].any(1), np.inf, stats.gmean(loss, axis=1))
        i = best[short] = int(np.argmin(gm))
        logs[short] = np.log(loss)
        assert m[f"best_eta_{short}"] == d["etas"][i]
        assert m[f"best_loss_{short}"] == pytest.approx(gm[i], rel=1e-5)
    rep = r.replicates
    np.testing.assert_allclose(
        rep["log_loss_constant_minus_decay"], logs["constant"][best["constant"]] - logs["decay"][best["decay"]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        rep["log_loss_decay_minus_warmup_minus_margin"],
        logs["decay"][best["decay"]] - logs["warmup"][best["warmup"]] - np.log(1.25),
        rtol=1e-6,
        atol=1e-6,
    )
    np.testing.assert_allclose(rep["large_eta_log_loss_decay_minus_warmup"], logs["decay"][-1] - logs["warmup"][-1])


def test_batch_size(tmp_path):
    # not run_quick: the timing claims' verdicts depend on this machine (and its load), so they are checked
    # against the timed repeats they read (the one rule on per-repeat log ratios), not against a declaration;
    # every other claim against its declaration
    from scipy import stats

    module = experiments.load("batch_size")
    r = experiments.run("batch_size", module.Config(out=str(tmp_path)).quick())
    timing = {"large_batch_update_nearly_free", "small_batch_epoch_slower"}
    claims = {c.id: c for c in module.CLAIMS}
    assert {v.id for v in r.claims} == set(claims)
    m, d, rep = r.metrics, r.data, r.replicates
    times, sizes = np.asarray(d["epoch_times"]), np.asarray(d["sizes"])
    n = int(m["full_batch_size"])
    update_ratio = times[:, -1] / times[:, 0] * n  # (s per full update) / (s per batch-1 update), per repeat
    epoch_ratio = times[:, 0] / times[:, -1]
    effects = {
        "large_batch_update_nearly_free": np.log(module.NEARLY_FREE / update_ratio),
        "small_batch_epoch_slower": np.log(epoch_ratio / module.MUCH_SLOWER),
    }
    for v in r.claims:
        if v.id in timing:
            e = effects[v.id]
            np.testing.assert_allclose(rep[claims[v.id].effect], e, rtol=1e-9)
            assert len(e) >= 10 and v.holds == (e.mean() > 3 * stats.sem(e))
        else:
            assert v.holds == (claims[v.id].expected and claims[v.id].quick), (v.id, v.numbers)
    for fig in r.figures:
        with open(fig, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
    per_update, per_epoch = np.asarray(d["per_update"]), np.asarray(d["per_epoch"])
    assert len(sizes) >= 6 and sizes[0] == 1 and sizes[-1] == n and np.all(per_update > 0)
    np.testing.assert_allclose(per_update * (n // sizes), per_epoch)
    np.testing.assert_allclose(per_epoch, np.median(times, axis=0))
    assert m["update_time_ratio_full_over_1"] == pytest.approx(np.median(update_ratio))
    # every data draw: the least-squares point (NumPy lstsq), full-batch GD's path toward it (closed-form
    # iteration, whose distance never rises for ηλmax < 2) and the paired count of epochs moving away
    theta0, eta = np.array([-2.0, 3.0]), d["path_eta"]
    rises = []
    for p in d["paths"]:
        X = np.stack([p["xs"], np.ones_like(p["xs"])], axis=1)
        w_ls = np.linalg.lstsq(X, p["ys"], rcond=None)[0]
        np.testing.assert_allclose(p["least_squares"], w_ls, rtol=1e-6)
        theta = theta0
        for point in p["full"][1:]:
            theta = theta - eta * 2 * X.T @ (X @ theta - p["ys"]) / len(p["ys"])
            np.testing.assert_allclose(point, theta, rtol=1e-4, atol=1e-5)
        up = lambda path, w=w_ls: int(np.sum(np.diff(np.linalg.norm(path - w, axis=1)) > 0))
        rises.append(up(p["small"]) - up(p["full"]))
        assert up(p["full"]) == 0 and eta * np.linalg.eigvalsh(2 * X.T @ X / len(X))[-1] < 2
    np.testing.assert_array_equal(rep["path_rises_small_minus_full"], rises)
    # Keskar: integer counts of correct images, paired by replicate
    sb, lb = d["keskar"][d["small_batch"]], d["keskar"][d["large_batch"]]
    n_test = int(m["test_examples"])
    count = lambda acc, size: np.rint(np.asarray(acc, np.float64) / 100 * size).astype(int)
    gap = count(sb["val_accuracy"][:, -1], n_test) - count(lb["val_accuracy"][:, -1], n_test)
    np.testing.assert_array_equal(rep["test_correct_small_minus_large"], gap)
    low = np.minimum(count(sb["train_accuracy"][:, -1], n), count(lb["train_accuracy"][:, -1], n))
    needed = -(-99 * n // 100)  # ⌈0.99 n⌉ in integers
    np.testing.assert_array_equal(rep["train_correct_min_minus_99_percent"], low - needed)
    assert d["large_batch"] == round(0.1 * n)
