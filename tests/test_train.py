"""The trainer: least-squares oracle, vmap equality, resume equality, divergence, reproducibility."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import losses, models, train


def regression_data(n: int = 128, d: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = x @ np.linspace(1, -1, d) + 0.5 + 0.1 * rng.normal(size=n)
    return jnp.asarray(x), jnp.asarray(y)


def test_gd_reaches_lstsq_within_1e_4():
    with jax.enable_x64(True):
        x, y = regression_data()
        model = models.linear(3)
        result = train.fit(
            train.supervised(model.apply, losses.mse), model.init(0), optax.sgd(0.2), (x, y), key=0, epochs=500
        )
        coef, *_ = np.linalg.lstsq(np.c_[np.asarray(x), np.ones(len(x))], np.asarray(y), rcond=None)
        got = np.r_[np.asarray(result.params["w"][:, 0]), np.asarray(result.params["b"])]
        np.testing.assert_allclose(got, coef, atol=1e-4)


def test_minibatch_epoch_visits_every_example_once():
    # With η = 0 the parameters never move, so an epoch's mean mini-batch loss must equal the full-data loss
    # exactly when B divides N — true only if each epoch is a permutation of the data.
    with jax.enable_x64(True):
        x, y = regression_data(n=96)
        model = models.linear(3)
        params = {"w": jnp.ones((3, 1)), "b": jnp.zeros(1)}
        objective = train.supervised(model.apply, losses.mse)
        result = train.fit(objective, params, optax.sgd(0.0), (x, y), key=3, epochs=4, batch_size=12)
        np.testing.assert_allclose(result.history["train_loss"], float(objective(params, (x, y))), rtol=1e-12)


def _sweep_setup():
    x, y = regression_data(n=64, d=2)
    model = models.mlp(2, [8], activation=jnp.tanh)
    return model, train.supervised(model.apply, losses.mse), (x, y)


def test_vmap_over_seeds_equals_separate_runs():
    model, objective, data = _sweep_setup()
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    sweep = train.fit_sweep(
        objective, jax.vmap(model.init)(keys), optax.adam(0.01), data, keys=keys, epochs=8, batch_size=16, val_data=data
    )
    for i in range(3):
        single = train.fit(
            objective, model.init(keys[i]), optax.adam(0.01), data, key=keys[i], epochs=8, batch_size=16, val_data=data
        )
        for a, b in zip(jax.tree_util.tree_leaves(sweep.params), jax.tree_util.tree_leaves(single.params)):
            np.testing.assert_allclose(a[i], b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(sweep.history["val_loss"][i], single.history["val_loss"], rtol=1e-5)


def test_vmap_over_learning_rates_equals_separate_runs():
    model, objective, data = _sweep_setup()
    lrs = jnp.array([0.001, 0.01, 0.1])
    key = jax.random.PRNGKey(4)
    params = model.init(key)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 3), params)
    sweep = train.fit_sweep(
        objective, stacked, optax.sgd, data, keys=jnp.stack([key] * 3), epochs=5, batch_size=8, learning_rates=lrs
    )
    for i, lr in enumerate(lrs):
        single = train.fit(objective, params, optax.sgd(float(lr)), data, key=key, epochs=5, batch_size=8)
        np.testing.assert_allclose(sweep.history["train_loss"][i], single.history["train_loss"], rtol=1e-5)


def test_same_seed_same_numbers_different_seed_different():
    model, objective, data = _sweep_setup()
    run = lambda seed: train.fit(
        objective, model.init(jax.random.PRNGKey(seed)), optax.adam(0.01), data, key=seed, epochs=3, batch_size=8
    ).history["train_loss"]
    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_divergence_names_the_epoch_and_keeps_last_finite_params():
    x, y = regression_data()
    model = models.linear(3)
    objective = train.supervised(model.apply, losses.mse)
    with pytest.raises(train.DivergenceError, match=r"epoch \d+, step \d+") as info:
        train.fit(objective, model.init(0), optax.sgd(5.0), (x, 1e3 * y), key=0, epochs=200, batch_size=32)
    err = info.value
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(err.params))
    assert len(err.history["train_loss"]) == err.epoch + 1
    assert np.isnan(err.history["train_loss"][-1]) and np.all(np.isfinite(err.history["train_loss"][:-1]))


def test_divergence_in_a_sweep_freezes_only_that_run():
    model, objective, data = _sweep_setup()
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    sweep = train.fit_sweep(
        objective,
        jax.vmap(model.init)(keys),
        optax.sgd,
        (data[0], 1e4 * data[1]),
        keys=keys,
        epochs=30,
        batch_size=16,
        learning_rates=jnp.array([1e-6, 50.0]),
    )
    assert sweep.diverged_epoch[0] == -1 and sweep.diverged_epoch[1] >= 0
    assert np.all(np.isfinite(sweep.history["train_loss"][0]))


def _fit_with_checkpoints(tmp_path, callback=None, epochs=10):
    model, objective, data = _sweep_setup()
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(0)),
        optax.adam(0.01),
        data,
        key=7,
        epochs=epochs,
        batch_size=16,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        callback=callback,
    )


def test_resume_after_interruption_is_bit_identical(tmp_path):
    reference = _fit_with_checkpoints(tmp_path / "ref")

    class Killed(Exception):
        pass

    def kill_at_epoch_6(epoch, state):
        if epoch == 6:
            raise Killed

    with pytest.raises(Killed):
        _fit_with_checkpoints(tmp_path / "run", callback=kill_at_epoch_6)
    resumed = _fit_with_checkpoints(tmp_path / "run")
    for a, b in zip(jax.tree_util.tree_leaves(reference.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reference.history["train_loss"], resumed.history["train_loss"])
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [train.CHECKPOINT_FILE]


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time, jax, jax.numpy as jnp, numpy as np, optax
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_train import _sweep_setup
        from jaxml import train
        model, objective, data = _sweep_setup()
        slow = (lambda e, s: time.sleep(0.3)) if sys.argv[2] == "slow" else None
        res = train.fit(objective, model.init(jax.random.PRNGKey(0)), optax.adam(0.01), data, key=7, epochs=40,
                        batch_size=16, checkpoint_dir=sys.argv[1], checkpoint_every=2, callback=slow)
        leaves = jax.tree_util.tree_leaves(res.params)
        np.save(sys.argv[1] + "/final.npy", np.concatenate([np.ravel(leaf) for leaf in leaves]))
    """)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    subprocess.run([sys.executable, "-c", script, str(ref_dir), "fast"], check=True, env=env)
    proc = subprocess.Popen([sys.executable, "-c", script, str(run_dir), "slow"], env=env)
    deadline = time.time() + 60
    while not (run_dir / train.CHECKPOINT_FILE).exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "final.npy").exists(), "the run finished before it could be killed"
    subprocess.run([sys.executable, "-c", script, str(run_dir), "fast"], check=True, env=env)
    np.testing.assert_array_equal(np.load(ref_dir / "final.npy"), np.load(run_dir / "final.npy"))


def test_checkpoint_of_another_run_is_refused(tmp_path):
    _fit_with_checkpoints(tmp_path, epochs=4)
    with pytest.raises(ValueError, match="different run"):
        _fit_with_checkpoints(tmp_path, epochs=6)


def test_history_has_metrics_for_train_and_val():
    x = jax.random.normal(jax.random.PRNGKey(0), (60, 2))
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = models.linear(2, 2)
    acc = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])
    res = train.fit(
        train.supervised(model.apply, losses.softmax_cross_entropy),
        model.init(0),
        optax.adam(0.1),
        (x, y),
        key=0,
        epochs=20,
        batch_size=20,
        val_data=(x[:10], y[:10]),
        metrics={"accuracy": acc},
    )
    assert set(res.history) == {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert all(v.shape == (20,) for v in res.history.values())
    assert res.history["train_accuracy"][-1] > 0.9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1000}, "exceeds"),
        ({"key": "seed"}, "key"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    model, objective, data = _sweep_setup()
    args = {"key": 0, "epochs": 2, "batch_size": 8, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        train.fit(objective, model.init(jax.random.PRNGKey(0)), optax.sgd(0.1), data, **args)


def test_bad_data_raises_clear_errors():
    model, objective, (x, y) = _sweep_setup()
    params = model.init(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="leading example axis"):
        train.fit(objective, params, optax.sgd(0.1), (x, y[:-1]), key=0, epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        train.fit(objective, params, optax.sgd(0.1), (x.at[0, 0].set(jnp.nan), y), key=0, epochs=1)
    with pytest.raises(TypeError, match="GradientTransformation"):
        train.fit(objective, params, "adam", (x, y), key=0, epochs=1)


def test_progress_bar_is_quiet_when_not_a_terminal(capfd):
    model, objective, data = _sweep_setup()
    train.fit(objective, model.init(jax.random.PRNGKey(0)), optax.sgd(0.1), data, key=0, epochs=3)
    assert capfd.readouterr().err == ""
    train.fit(objective, model.init(jax.random.PRNGKey(0)), optax.sgd(0.1), data, key=0, epochs=3, progress=True)
    assert "epoch" in capfd.readouterr().err
