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

from jaxml import checkpoint, losses, models, train


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


def _fit_with_checkpoints(tmp_path, callback=None, epochs=10, key=7):
    model, objective, data = _sweep_setup()
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(0)),
        optax.adam(0.01),
        data,
        key=key,
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
    assert checkpoint.steps(tmp_path / "run") == [10]  # the default keeps the latest checkpoint only


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
    while not checkpoint.steps(run_dir) and time.time() < deadline:
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
        _fit_with_checkpoints(tmp_path, epochs=4, key=8)


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


# ------------------------------------------------------------------------------------------------------------
# Bad inputs: each a ValueError/TypeError naming the argument, before anything is compiled

_X = jnp.asarray(np.random.default_rng(0).normal(size=(32, 3)))
_Y = _X @ jnp.array([1.0, -2.0, 0.5])
_MODEL = models.linear(3)
_OBJECTIVE = train.supervised(_MODEL.apply, losses.mse)
_PARAMS = {"w": jnp.zeros((3, 1)), "b": jnp.zeros(1)}


def _fit(**change):
    args = {"params": _PARAMS, "optimizer": optax.sgd(0.1), "data": (_X, _Y), "key": 0, "epochs": 2, "batch_size": 8}
    args.update(change)
    objective = args.pop("objective", _OBJECTIVE)
    return train.fit(objective, args.pop("params"), args.pop("optimizer"), args.pop("data"), **args)


class _Unhashable:
    """A callable objective object that defines __eq__ but not __hash__ (so it cannot key a cache)."""

    __hash__ = None

    def __eq__(self, other):
        return isinstance(other, _Unhashable)

    def __call__(self, params, batch):
        return _OBJECTIVE(params, batch)


BAD_FIT = [
    # (id, change, exception, what the message must name)
    ("checkpoint_every=-1", {"checkpoint_every": -1}, ValueError, "checkpoint_every"),
    ("checkpoint_every=0", {"checkpoint_every": 0}, ValueError, "checkpoint_every"),
    ("checkpoint_every=-5 full batch", {"checkpoint_every": -5, "batch_size": None}, ValueError, "checkpoint_every"),
    ("checkpoint_every=0 with dir", {"checkpoint_every": 0, "checkpoint_dir": "/nonexistent/x"}, ValueError,
     "checkpoint_every"),
    ("checkpoint_every=1.5", {"checkpoint_every": 1.5}, TypeError, "checkpoint_every"),
    ("callback_every=0", {"callback_every": 0}, ValueError, "callback_every"),
    ("callback not callable", {"callback": "print"}, TypeError, "callback"),
    ("epochs=0", {"epochs": 0}, ValueError, "epochs"),
    ("epochs=-3", {"epochs": -3}, ValueError, "epochs"),
    ("epochs=2.5", {"epochs": 2.5}, TypeError, "epochs"),
    ("epochs=True", {"epochs": True}, TypeError, "epochs"),
    ("batch_size=0", {"batch_size": 0}, ValueError, "batch_size"),
    ("batch_size>N", {"batch_size": 33}, ValueError, "batch_size"),
    ("batch_size=8.0", {"batch_size": 8.0}, TypeError, "batch_size"),
    ("key str", {"key": "seed"}, TypeError, "key"),
    ("key float", {"key": 1.5}, TypeError, "key"),
    ("key float array", {"key": jnp.zeros(2)}, TypeError, "key"),
    ("data bare array", {"data": _X}, TypeError, "data=(x, y)"),
    ("data ragged", {"data": (_X, _Y[:-1])}, ValueError, "data"),
    ("data NaN", {"data": (_X.at[0, 0].set(jnp.nan), _Y)}, ValueError, "data"),
    ("data inf", {"data": (_X, _Y.at[3].set(jnp.inf))}, ValueError, "data"),
    ("data empty", {"data": (_X[:0], _Y[:0])}, ValueError, "data"),
    ("data no arrays", {"data": ()}, ValueError, "data"),
    ("val_data NaN", {"val_data": (_X.at[1, 1].set(jnp.nan), _Y)}, ValueError, "val_data"),
    ("params empty", {"params": {}}, ValueError, "params"),
    ("params NaN", {"params": {**_PARAMS, "w": _PARAMS["w"].at[0, 0].set(jnp.nan)}}, ValueError, "params['w']"),
    ("params inf", {"params": {**_PARAMS, "b": jnp.full(1, jnp.inf)}}, ValueError, "params['b']"),
    ("params int", {"params": {**_PARAMS, "b": jnp.zeros(1, jnp.int32)}}, TypeError, "params['b']"),
    ("params other shape", {"params": {"w": jnp.zeros((4, 1)), "b": jnp.zeros(1)}}, ValueError, "float32[4, 1]"),
    ("metrics list", {"metrics": [lambda p, b: 0.0]}, TypeError, "metrics"),
    ("metrics value", {"metrics": {"acc": 3}}, TypeError, "metrics['acc']"),
    ("metrics key", {"metrics": {1: lambda p, b: 0.0}}, TypeError, "metrics"),
    ("metric vector", {"metrics": {"v": lambda p, b: b[0][:, 0]}}, ValueError, "metrics['v']"),
    ("objective vector", {"objective": lambda p, b: b[0] @ p["w"]}, ValueError, "objective"),
    ("objective int", {"objective": lambda p, b: jnp.sum(b[1] > 0)}, ValueError, "objective"),
    ("objective not callable", {"objective": "mse"}, TypeError, "objective"),
    ("optimizer str", {"optimizer": "adam"}, TypeError, "optimizer"),
    ("mesh str", {"mesh": "data"}, TypeError, "mesh"),
    ("progress str", {"progress": "yes"}, TypeError, "progress"),
    ("val_data not a pair", {"val_data": _X}, TypeError, "val_data"),
    ("val_data other width", {"val_data": (_X[:, :2], _Y)}, ValueError, "objective on val_data"),
    ("mesh axes", {"mesh": jax.sharding.Mesh(np.array(jax.devices()[:1]), ("batch",))}, ValueError, "mesh"),
]  # fmt: skip


@pytest.mark.parametrize("change, error, named", [case[1:] for case in BAD_FIT], ids=[case[0] for case in BAD_FIT])
def test_bad_fit_input_names_the_argument(change, error, named):
    with pytest.raises(error) as info:
        _fit(**change)
    assert named in str(info.value), str(info.value)


_STACKED = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 3), _PARAMS)


def _sweep(**change):
    args = {"params": _STACKED, "optimizer": optax.sgd, "data": (_X, _Y), "keys": jnp.arange(3), "epochs": 2,
            "batch_size": 8, "learning_rates": jnp.array([0.01, 0.1, 0.2])}  # fmt: skip
    args.update(change)
    return train.fit_sweep(_OBJECTIVE, args.pop("params"), args.pop("optimizer"), args.pop("data"), **args)


BAD_SWEEP = [
    ("negative learning rate", {"learning_rates": jnp.array([0.1, -0.1, 0.01])}, ValueError, "learning_rates"),
    ("NaN learning rate", {"learning_rates": [0.1, float("nan"), 0.01]}, ValueError, "learning_rates"),
    ("inf learning rate", {"learning_rates": np.array([0.1, np.inf, 0.01])}, ValueError, "learning_rates"),
    ("learning rates shape", {"learning_rates": jnp.array([0.1, 0.2])}, ValueError, "learning_rates"),
    ("learning rates str", {"learning_rates": ["fast"] * 3}, TypeError, "learning_rates"),
    ("factory without rates", {"learning_rates": None}, TypeError, "optimizer"),
    ("transformation with rates", {"optimizer": optax.sgd(0.1)}, TypeError, "optimizer"),
    ("keys (N, 3)", {"keys": jnp.zeros((3, 3), jnp.uint32)}, TypeError, "keys"),
    ("keys str", {"keys": "abc"}, TypeError, "keys"),
    ("keys empty", {"keys": jnp.zeros((0, 2), jnp.uint32)}, TypeError, "keys"),
    ("params run axis", {"keys": jnp.arange(4), "learning_rates": jnp.ones(4)}, ValueError, "params"),
    ("params NaN", {"params": {**_STACKED, "b": _STACKED["b"].at[1].set(jnp.nan)}}, ValueError, "params['b']"),
    ("epochs=0", {"epochs": 0}, ValueError, "epochs"),
    ("metrics list", {"metrics": [lambda p, b: 0.0]}, TypeError, "metrics"),
    ("metric vector", {"metrics": {"v": lambda p, b: b[1]}}, ValueError, "metrics['v']"),
]


@pytest.mark.parametrize("change, error, named", [c[1:] for c in BAD_SWEEP], ids=[c[0] for c in BAD_SWEEP])
def test_bad_sweep_input_names_the_argument(change, error, named):
    with pytest.raises(error) as info:
        _sweep(**change)
    assert named in str(info.value), str(info.value)


def test_data_may_be_a_single_array_for_an_objective_that_takes_one():
    # A bare array is a pytree with a leading axis: with an objective of (params, x), fit estimates the mean
    # μ = argmin mean‖x − μ‖² — whose closed form is the sample mean.
    with jax.enable_x64(True):
        objective = lambda p, x: jnp.mean(jnp.sum((x - p["mu"]) ** 2, axis=1))
        result = train.fit(objective, {"mu": jnp.zeros(3)}, optax.sgd(0.4), _X, key=0, epochs=60)
        np.testing.assert_allclose(result.params["mu"], np.mean(np.asarray(_X), axis=0), atol=1e-10)


def test_supervised_objective_names_the_batch_it_needs():
    with pytest.raises(TypeError, match=r"\(x, y\) pair"):
        _OBJECTIVE(_PARAMS, _X)
    with pytest.raises(ValueError, match="l2"):
        train.supervised(_MODEL.apply, losses.mse, l2=-1.0)


# ------------------------------------------------------------------------------------------------------------
# Keys, callbacks, the runner cache


def test_a_seed_a_typed_key_and_a_raw_key_give_the_same_run():
    runs = [_fit(key=k).params for k in (5, jax.random.key(5), jax.random.PRNGKey(5), np.int64(5))]
    for other in runs[1:]:
        for a, b in zip(jax.tree_util.tree_leaves(runs[0]), jax.tree_util.tree_leaves(other)):
            np.testing.assert_array_equal(a, b)


def test_sweep_keys_as_seeds_typed_or_raw_give_the_same_runs():
    seeds = [3, 4, 5]
    forms = [seeds, jnp.array(seeds), jnp.stack([jax.random.key(s) for s in seeds]),
             jnp.stack([jax.random.PRNGKey(s) for s in seeds])]  # fmt: skip
    results = [_sweep(keys=k).history["train_loss"] for k in forms]
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    # and run i is fit with key=seeds[i]
    single = _fit(key=seeds[1], optimizer=optax.sgd(0.1)).history["train_loss"]
    np.testing.assert_allclose(results[0][1], single, rtol=1e-6)


def test_callback_every_k_epochs_sees_a_public_train_state():
    seen = []
    result = _fit(epochs=7, callback_every=3, callback=lambda epoch, state: seen.append((epoch, state)))
    assert [epoch for epoch, _ in seen] == [3, 6, 7]  # every K, and the last
    assert all(isinstance(state, train.TrainState) and state.epoch == epoch for epoch, state in seen)
    for a, b in zip(jax.tree_util.tree_leaves(seen[-1][1].params), jax.tree_util.tree_leaves(result.params)):
        np.testing.assert_array_equal(a, b)
    # The callback does not change the run: the same parameters as without one.
    plain = _fit(epochs=7)
    for a, b in zip(jax.tree_util.tree_leaves(plain.params), jax.tree_util.tree_leaves(result.params)):
        np.testing.assert_array_equal(a, b)


def test_callback_every_is_independent_of_checkpoints(tmp_path):
    seen = []
    _fit(epochs=6, callback_every=2, callback=lambda e, s: seen.append(e), checkpoint_dir=tmp_path, checkpoint_every=3)
    assert seen == [2, 4, 6]
    # and checkpoint_every without a directory still paces the callback (the older way), writing nothing
    paced = []
    _fit(epochs=4, checkpoint_every=1, callback=lambda e, s: paced.append(e))
    assert paced == [1, 2, 3, 4]


def test_an_unhashable_objective_trains_and_a_type_error_inside_is_not_swallowed():
    np.testing.assert_array_equal(_fit(objective=_Unhashable()).history["train_loss"], _fit().history["train_loss"])
    calls = []

    def broken(params, batch):
        calls.append(1)
        raise TypeError("broken objective")

    with pytest.raises(TypeError, match="broken objective"):
        _fit(objective=broken)
    assert len(calls) == 1  # raised once, not retried by a cache fallback


def _counting(objective):
    """``objective`` wrapped to count how often it is traced (each Python call is a trace under jit)."""
    traces = []

    def counted(params, batch):
        traces.append(1)
        return objective(params, batch)

    return counted, traces


def test_a_second_fit_with_the_same_objects_does_not_retrace():
    # Same objective and optimizer objects: the second call reuses the compiled runner (and the up-front
    # output-shape check its cached trace), so the objective is not traced again.
    objective, traces = _counting(_OBJECTIVE)
    optimizer = optax.sgd(0.1)
    _fit(objective=objective, optimizer=optimizer)
    first = len(traces)
    _fit(objective=objective, optimizer=optimizer, key=1)
    assert first >= 2 and len(traces) == first


def test_distributed_re_exports_the_one_to_host():
    from jaxml import distributed, sharding

    assert distributed.to_host is sharding.to_host
    assert jax.sharding.PartitionSpec(sharding.DATA_AXIS) == distributed.ROWS_OVER_DATA


def test_another_number_of_epochs_in_the_same_bucket_does_not_recompile():
    # History buffers are sized to the next power of two and the epoch count is a runtime value: 3 and 4
    # epochs share one compiled runner (the objective is not traced again), 5 needs buffers of 8.
    objective, traces = _counting(_OBJECTIVE)
    optimizer = optax.sgd(0.1)
    three = _fit(objective=objective, optimizer=optimizer, epochs=3)
    after_three = len(traces)
    four = _fit(objective=objective, optimizer=optimizer, epochs=4)
    assert len(traces) == after_three
    _fit(objective=objective, optimizer=optimizer, epochs=5)
    assert len(traces) > after_three
    # The shorter run is the longer one's prefix (same key, same batches).
    assert three.history["train_loss"].shape == (3,) and four.history["train_loss"].shape == (4,)
    np.testing.assert_array_equal(three.history["train_loss"], four.history["train_loss"][:3])


def test_per_run_data_sweep_equals_fit_on_each_runs_data():
    # Three runs, each on its own random data set of equal size (and its own held-out set, a metric read on
    # both): run i of the sweep must be fit(..., data[i], val_data=val_data[i]) — so the runs cannot have
    # shared run 0's data, and a wrong slice would fit another set's targets.
    model, objective, _ = _sweep_setup()
    sets = [regression_data(n=64, d=2, seed=s) for s in range(6)]
    data = tuple(jnp.stack(parts) for parts in zip(*sets[:3]))  # x: (3, 64, 2), y: (3, 64)
    val_data = tuple(jnp.stack(parts) for parts in zip(*sets[3:]))
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    metrics = {"mae": lambda p, b: losses.mae(model.apply(p, b[0]), b[1])}
    common = {"epochs": 6, "batch_size": 16, "metrics": metrics}
    sweep = train.fit_sweep(
        objective, jax.vmap(model.init)(keys), optax.adam(0.01), data, keys=keys, val_data=val_data,
        data_per_run=True, **common,
    )  # fmt: skip
    own = lambda tree, i: jax.tree_util.tree_map(lambda a: a[i], tree)  # run i's data: data[i]
    finals = []
    for i in range(3):
        single = train.fit(
            objective, model.init(keys[i]), optax.adam(0.01), own(data, i), key=keys[i], val_data=own(val_data, i),
            **common,
        )  # fmt: skip
        for a, b in zip(jax.tree_util.tree_leaves(sweep.params), jax.tree_util.tree_leaves(single.params)):
            np.testing.assert_allclose(a[i], b, rtol=1e-5, atol=1e-6)
        for name in ("train_loss", "val_loss", "train_mae", "val_mae"):
            np.testing.assert_allclose(sweep.history[name][i], single.history[name], rtol=1e-5)
        finals.append(single.history["train_loss"][-1])
    assert len(set(np.round(finals, 6))) == 3  # the runs really saw different data


BAD_PER_RUN = [
    # (id, change, what the message must name)
    ("data without run axis", {"data": (_X, _Y)}, "data"),  # (32, 3): 32 ≠ N = 3
    ("data run axis 2", {"data": (jnp.stack([_X] * 2), jnp.stack([_Y] * 2))}, "data"),
    ("y without run axis", {"data": (jnp.stack([_X] * 3), _Y)}, "data"),
    ("val_data without run axis", {"val_data": (_X, _Y)}, "val_data"),
    ("val_data NaN in run 2", {"val_data": (jnp.stack([_X] * 3).at[2, 0, 0].set(jnp.nan), jnp.stack([_Y] * 3))},
     "val_data"),
    ("mesh", {"mesh": jax.sharding.Mesh(np.array(jax.devices()[:1]), ("sweep",))}, "mesh"),
]  # fmt: skip


@pytest.mark.parametrize("change, named", [c[1:] for c in BAD_PER_RUN], ids=[c[0] for c in BAD_PER_RUN])
def test_bad_per_run_data_names_the_argument(change, named):
    change = {"data": (jnp.stack([_X] * 3), jnp.stack([_Y] * 3)), "data_per_run": True, **change}
    with pytest.raises(ValueError) as info:
        _sweep(**change)
    assert named in str(info.value), str(info.value)
    if named != "mesh":
        assert "shapes" in str(info.value) or "NaN" in str(info.value), str(info.value)
