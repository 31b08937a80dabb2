"""The optimization experiments (SCOPE §4) in --quick mode, with their numbers checked against what the lecture
says should happen and against independent closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_quick

from jaxml import surfaces


def run(name, tmp_path):
    result = run_quick(name, tmp_path)
    assert all(np.isfinite(v) or np.isinf(v) for v in result.metrics.values())
    return result


def test_error_surface(tmp_path):
    r = run("error_surface", tmp_path)
    m = r.metrics
    # both fixed learning rates are stuck far above the minimum, Adagrad gets to it
    assert m["final_loss_adagrad"] < 1e-4 * m["final_loss_gd_large_eta"]
    assert m["final_loss_adagrad"] < 1e-4 * m["final_loss_gd_small_eta"]
    assert m["final_loss_gd_small_eta"] > 0.05 * m["initial_loss"]
    # "stalls although the gradient is not small": after 100 updates ‖g‖ is still tens
    assert m["grad_norm_gd_large_eta_at_step_100"] > 10
    # no fixed η in the sweep does well, and the best one sits just under the stability limit 2/b
    assert m["best_fixed_eta_final_loss"] > 1e3 * m["final_loss_adagrad"]
    a, b = surfaces.ELONGATED_CURVATURE
    assert 0.5 * 2 / b < m["best_fixed_eta"] < 2 / b
    # gradient descent on a quadratic is geometric: θ₁ after T updates is (1 − ηa)ᵀ θ₁⁰ (closed form)
    path = r.data["paths"][next(iter(r.data["paths"]))]
    steps = len(path.theta) - 1
    assert path.theta[-1, 0] == pytest.approx(surfaces.ELONGATED.start[0] * (1 - 0.0199 * a) ** steps, rel=1e-4)


def test_rmsprop_crescent(tmp_path):
    m = run("rmsprop_crescent", tmp_path).metrics
    assert m["final_distance_rmsprop"] < 0.25 * m["final_distance_adagrad"]
    assert m["final_loss_rmsprop"] < 0.05 * m["final_loss_adagrad"]
    assert m["steps_to_within_0.5_rmsprop"] < m["steps_to_within_0.5_adagrad"]


def test_momentum(tmp_path):
    m = run("momentum", tmp_path).metrics
    low, _, local = surfaces.double_well_critical_points()
    # plain GD settles in the local minimum, momentum in the global one (the roots of ∂L/∂θ₁ = 0)
    assert m["double_well_final_theta1_gd"] == pytest.approx(local, abs=1e-3)
    assert m["double_well_final_theta1_momentum"] == pytest.approx(low, abs=1e-3)
    assert m["double_well_final_loss_momentum"] < m["double_well_final_loss_gd"] - 0.5
    # past the saddle: momentum reaches L < 0.01 well before GD
    assert m["saddle_updates_to_loss_below_0.01_momentum"] < 0.5 * m["saddle_updates_to_loss_below_0.01_gd"]


def test_adam_bursts(tmp_path):
    r = run("adam_bursts", tmp_path)
    m = r.metrics
    # constant η: θ₂ climbs back up the wall after settling, repeatedly; decayed η: it never does
    assert m["burst_max_abs_theta2_constant"] > 1e-2
    assert m["burst_count_constant"] >= 3
    assert m["burst_count_decay"] == 0 and m["burst_count_warmup_decay"] == 0
    assert m["burst_max_abs_theta2_decay"] < 1e-2 * m["burst_max_abs_theta2_constant"]
    assert m["burst_max_abs_theta2_warmup_decay"] < 1e-1 * m["burst_max_abs_theta2_constant"]
    assert m["final_loss_decay"] < 1e-6 * m["final_loss_constant"]
    # the mechanism: before the first burst σ₂ had shrunk by orders of magnitude from its start
    sigma = r.data["sigma2"][next(iter(r.data["sigma2"]))]
    assert sigma[200:].min() < 1e-2 * sigma[0]


def test_lr_schedules(tmp_path):
    r = run("lr_schedules", tmp_path)
    m = r.metrics
    assert m["first_epoch_loss_warmup"] < 0.7 * m["first_epoch_loss_no_warmup"]
    assert m["final_train_loss_warmup"] < m["final_train_loss_no_warmup"]
    assert m["test_accuracy_warmup"] > m["test_accuracy_no_warmup"]
    assert m["test_accuracy_warmup"] > 0.9  # digits: a trained MLP is well above chance (0.1)
    # every schedule in the gallery starts at ≤ its peak and stays non-negative
    for name, (_, values) in r.data["schedules"].items():
        assert np.all(values >= 0) and np.all(values <= 0.1 + 1e-7), name


def test_batch_size(tmp_path):
    r = run("batch_size", tmp_path)
    m, d = r.metrics, r.data
    # timings are measured, not asserted (they depend on the machine): one per batch size, positive, and an
    # epoch is the updates it holds
    sizes, per_update, per_epoch = (np.array(d[k]) for k in ("sizes", "per_update", "per_epoch"))
    assert len(sizes) == len(per_update) == len(per_epoch) >= 2 and np.all(per_update > 0)
    np.testing.assert_allclose(per_update * (sizes[-1] // sizes), per_epoch)
    # small batch: near the least-squares solution and jittering; full batch: still on its way, smoothly
    assert m["small_batch_path_final_distance"] < 0.2 * m["full_batch_path_final_distance"]
    assert m["small_batch_path_jitter_last_10_epochs"] > 0
    # both batch sizes learn digits (the lecture: training accuracy about equal)
    assert m["small_batch_train_accuracy"] > 90 and m["large_batch_train_accuracy"] > 90
    assert abs(m["small_batch_train_accuracy"] - m["large_batch_train_accuracy"]) < 5
    keskar = r.tables[next(k for k in r.tables if "Keskar" in k)]
    assert "98.03" in keskar and "57.81" in keskar  # the lecture's numbers are shown beside ours
