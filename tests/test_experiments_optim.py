"""The optimization experiments (SCOPE §4) in their quick variant: every claim's verdict is the declared one
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


def test_error_surface(tmp_path):
    r = run("error_surface", tmp_path)
    m, paths = r.metrics, r.data["paths"]
    cfg = experiments.load("error_surface").Config().quick()
    a, b = surfaces.ELONGATED_CURVATURE
    (x0, y0), steps = surfaces.ELONGATED.start, cfg.steps
    # gradient descent on a quadratic is geometric (closed form): θᵢᵀ = (1 − ηcᵢ)ᵀ θᵢ⁰
    for eta, key in ((cfg.eta_large, "gd_large"), (cfg.eta_small, "gd_small")):
        theta = paths[next(k for k in paths if k.startswith(f"GD, η = {eta:g}"))].theta
        np.testing.assert_allclose(
            theta[-1], [x0 * (1 - eta * a) ** steps, y0 * (1 - eta * b) ** steps], rtol=1e-3, atol=1e-30
        )
        assert m[f"final_distance_{key}"] == pytest.approx(np.hypot(*theta[-1]), rel=1e-6)
    # 1 − ηb < 0 for the large η: θ₂ changes sign at every update; the small η never flips it
    assert 1 - cfg.eta_large * b < 0 and m["gd_large_theta2_sign_flip_fraction"] == 1.0
    assert m["gd_small_theta1_progress"] == pytest.approx(1 - (1 - cfg.eta_small * a) ** steps, rel=1e-3)
    # the distance after T steps falls with η below 2/b, so the best fixed η is the sweep's largest
    assert m["sweep_best_eta"] == pytest.approx(0.995 * 2 / b, rel=1e-6)
    # our Adam is optax.adam (independent implementation) step after step
    ref = surfaces.trajectory(surfaces.elongated, optax.adam(cfg.eta_adam), jnp.asarray((x0, y0)), steps)
    adam = paths[next(k for k in paths if k.startswith("Adam"))]
    np.testing.assert_allclose(adam.theta[:50], np.asarray(ref.theta)[:50], rtol=1e-4, atol=1e-4)


def _heavy_ball_saddle(start, eta, lam, steps):
    """The lecture's momentum in NumPy on L = (1 − θ₁θ₂)²: m = λm − ηg, θ = θ + m; the loss after each update."""
    theta, m, losses = np.array(start, dtype=float), np.zeros(2), []
    for _ in range(steps + 1):
        r = 1 - theta[0] * theta[1]
        losses.append(r * r)
        g = np.array([-2 * r * theta[1], -2 * r * theta[0]])
        m = lam * m - eta * g
        theta = theta + m
    return np.array(losses)


def test_momentum(tmp_path):
    r = run("momentum", tmp_path)
    m = r.metrics
    cfg = experiments.load("momentum").Config().quick()
    low, barrier, local = surfaces.double_well_critical_points()  # roots of ∂L/∂θ₁ = 4θ₁³ − 4θ₁ + c
    assert m["double_well_final_theta1_momentum"] == pytest.approx(low, abs=1e-3)
    assert m["double_well_final_theta1_gd_same_eta"] == pytest.approx(local, abs=1e-3)
    assert m["double_well_final_theta1_gd_effective_eta"] == pytest.approx(local, abs=1e-3)
    # the saddle's first update below 0.01, from a NumPy heavy ball and plain GD (λ = 0)
    for lam, eta, key in ((cfg.lam, cfg.eta, "momentum"), (0.0, cfg.eta, "gd_same_eta"),
                          (0.0, cfg.eta / (1 - cfg.lam), "gd_effective_eta")):  # fmt: skip
        loss = _heavy_ball_saddle(surfaces.SADDLE.start, eta, lam, cfg.steps)
        assert m[f"saddle_updates_{key}"] == pytest.approx(np.argmax(loss < 0.01), abs=1)
    assert m["starts_swept"] == cfg.start_sweep


def test_rmsprop_crescent(tmp_path):
    r = run("rmsprop_crescent", tmp_path)
    m, d = r.metrics, r.data
    ada = next(k for k in d["paths"] if k.startswith("Adagrad"))
    rms = next(k for k in d["paths"] if k.startswith("RMSProp"))
    alpha = experiments.load("rmsprop_crescent").Config().alpha
    g_ada = np.asarray(d["paths"][ada].grad)[:-1]  # the gradients each optimizer saw
    g_rms = np.asarray(d["paths"][rms].grad)[:-1]
    # Adagrad's σ² is the mean of all past g²; RMSProp's the lecture's recurrence from σ⁰ = |g⁰| (NumPy)
    np.testing.assert_allclose(d["sigma"][ada][-1] ** 2, np.mean(g_ada**2, axis=0), rtol=1e-3)
    s2 = g_rms[0] ** 2
    for g in g_rms[1:]:
        s2 = alpha * s2 + (1 - alpha) * g * g
    np.testing.assert_allclose(d["sigma"][rms][-1] ** 2, s2, rtol=1e-3)
    assert m["final_distance_rmsprop"] == pytest.approx(np.linalg.norm(d["paths"][rms].theta[-1] - 1), rel=1e-6)


def test_adam_bursts(tmp_path):
    r = run("adam_bursts", tmp_path)
    m, d = r.metrics, r.data
    b2 = experiments.load("adam_bursts").Config().b2
    const = next(iter(d["paths"]))
    # σ₂ read from the state is √v̂₂, Adam's bias-corrected β₂-average of g₂² (NumPy)
    g2 = np.asarray(d["paths"][const].grad)[:-1, 1].astype(float)
    v, vhat = 0.0, []
    for t, g in enumerate(g2, start=1):
        v = b2 * v + (1 - b2) * g * g
        vhat.append(v / (1 - b2**t))
    np.testing.assert_allclose(d["sigma2"][const][:300] ** 2, vhat[:300], rtol=1e-3)
    # the bursts, recounted from the loss: after first L < 1e-8·L⁰, upward crossings of 1e-5·L⁰
    loss = np.asarray(d["paths"][const].loss) / d["paths"][const].loss[0]
    t0 = int(np.argmax(loss < 1e-8))
    late = loss[t0:]
    assert m["bursts_constant"] == np.sum((late[1:] > 1e-5) & (late[:-1] <= 1e-5))
    assert m["final_loss_decay"] < 1e-6 * m["final_loss_constant"]


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
    # the best η of each schedule is the argmin of its mean final training loss
    for key, short in (("constant η", "constant"), ("cosine decay", "decay"), ("warm-up + cosine decay", "warmup")):
        loss = d["final_loss"][key]
        i = int(np.nanargmin(np.where(np.isnan(loss).any(1), np.inf, loss.mean(1))))
        assert m[f"best_eta_{short}"] == d["etas"][i]
        assert m[f"best_loss_{short}"] == pytest.approx(loss[i].mean(), rel=1e-6)


def test_batch_size(tmp_path):
    # not run_quick: the timing claims' verdicts depend on this machine (and its load), so they are checked
    # against the numbers they read, not against a declaration; every other claim against its declaration
    module = experiments.load("batch_size")
    r = experiments.run("batch_size", module.Config(out=str(tmp_path)).quick())
    timing = {"large_batch_update_nearly_free", "small_batch_epoch_slower"}
    claims = {c.id: c for c in module.CLAIMS}
    assert {v.id for v in r.claims} == set(claims)
    for v in r.claims:
        if v.id in timing:
            assert v.holds == claims[v.id].predicate(r.metrics)
        else:
            assert v.holds == (claims[v.id].expected and claims[v.id].quick), (v.id, v.numbers)
    for fig in r.figures:
        with open(fig, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
    m, d = r.metrics, r.data
    sizes, per_update, per_epoch = (np.asarray(d[k]) for k in ("sizes", "per_update", "per_epoch"))
    n = int(m["full_batch_size"])
    assert len(sizes) >= 6 and sizes[0] == 1 and sizes[-1] == n and np.all(per_update > 0)
    np.testing.assert_allclose(per_update * (n // sizes), per_epoch)
    np.testing.assert_allclose(per_epoch, np.median(d["epoch_times"], axis=0))
    assert m["update_time_ratio_full_over_1"] == pytest.approx(per_update[-1] / per_update[0])
    # the least-squares point (NumPy lstsq) and full-batch GD's path toward it (closed-form iteration)
    xs, ys = d["xs"], d["ys"]
    X = np.stack([xs, np.ones_like(xs)], axis=1)
    np.testing.assert_allclose(d["least_squares"], np.linalg.lstsq(X, ys, rcond=None)[0], rtol=1e-6)
    theta, eta = np.array([-2.0, 3.0]), d["path_eta"]
    for point in d["full_path"][1:]:
        theta = theta - eta * 2 * X.T @ (X @ theta - ys) / len(ys)
        np.testing.assert_allclose(point, theta, rtol=1e-4, atol=1e-5)
    # Keskar: the paired gap is the mean of per-seed differences; the verdict reads it
    sb, lb = d["keskar"][d["small_batch"]], d["keskar"][d["large_batch"]]
    gap = sb["val_accuracy"][:, -1] - lb["val_accuracy"][:, -1]
    assert m["keskar_test_gap_points"] == pytest.approx(gap.mean(), abs=1e-6)
    assert d["large_batch"] == round(0.1 * n)
