"""The trainer's contract beyond ``objective(params, batch)``: per-step keys, auxiliary outputs, a model state,
optimizers that need the loss (``value=``), ``optax.MultiSteps``, and the float16 divergence guard.

Oracles: hand-written optax loops over the same batches with the documented key derivation (full-batch runs, so
the batch order cannot differ), closed forms (an aux that is a known function of θ), and optax's own
``reduce_on_plateau`` / ``MultiSteps`` stepped by hand.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import checkpoint, losses, models, train

N, D = 64, 3


def _data(seed: int = 0):
    x = jax.random.normal(jax.random.PRNGKey(seed), (N, D))
    y = x @ jnp.array([1.0, -2.0, 0.5]) + 0.1 * jax.random.normal(jax.random.PRNGKey(seed + 1), (N,))
    return x, y


MODEL = models.mlp(D, [8], activation=jnp.tanh)


def dropout_objective(params, batch, key):
    """MSE of an MLP whose hidden units drop with probability 0.5 during training (key None: no dropout)."""
    x, y = batch
    h = jnp.tanh(x @ params[0]["w"] + params[0]["b"])
    if key is not None:
        h = h * jax.random.bernoulli(key, 0.5, h.shape) / 0.5
    return jnp.mean((h @ params[1]["w"][:, 0] + params[1]["b"][0] - y) ** 2)


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])


# ------------------------------------------------------------------------------------------------------------
# Per-step PRNG keys


def test_dropout_with_per_step_keys_equals_a_hand_loop_and_follows_the_key():
    data, params, opt = _data(), MODEL.init(0), optax.sgd(0.05)
    fit = lambda key: train.fit(dropout_objective, params, opt, data, key=key, epochs=5, rng=True, val_data=data)
    a, a_again, b = fit(3), fit(3), fit(4)
    np.testing.assert_array_equal(_flat(a.params), _flat(a_again.params))  # same key, same numbers
    assert not np.allclose(_flat(a.params), _flat(b.params))  # another key, other masks
    # The documented derivation: epoch e's keys are split(fold_in(fold_in(key, e), 1), steps).
    p, s = params, opt.init(params)
    for e in range(5):
        (k,) = jax.random.split(jax.random.fold_in(jax.random.fold_in(jax.random.key(3), e), 1), 1)
        g = jax.grad(dropout_objective)(p, data, k)
        u, s = opt.update(g, s, p)
        p = optax.apply_updates(p, u)
    np.testing.assert_allclose(_flat(a.params), _flat(p), rtol=1e-6, atol=1e-7)
    # Evaluation gets key None: val_loss is the deterministic loss of the final θ.
    np.testing.assert_allclose(a.history["val_loss"][-1], dropout_objective(a.params, data, None), rtol=1e-6)


def test_step_keys_leave_the_batch_order_unchanged():
    # Asking for keys must not move the batches: an objective that ignores its key trains exactly as without.
    data, params = _data(), MODEL.init(1)
    objective = train.supervised(MODEL.apply, losses.mse)
    plain = train.fit(objective, params, optax.sgd(0.05), data, key=2, epochs=3, batch_size=16)
    keyed = train.fit(lambda p, b, k: objective(p, b), params, optax.sgd(0.05), data, key=2, epochs=3,
                      batch_size=16, rng=True)  # fmt: skip
    np.testing.assert_array_equal(_flat(plain.params), _flat(keyed.params))


def test_sweep_runs_get_their_own_step_keys():
    data = _data()
    params = jax.vmap(MODEL.init)(jnp.arange(2))
    res = train.fit_sweep(dropout_objective, params, optax.sgd(0.05), data, keys=jnp.array([3, 3]), epochs=2, rng=True)
    single = train.fit(dropout_objective, MODEL.init(0), optax.sgd(0.05), data, key=3, epochs=2, rng=True)
    np.testing.assert_allclose(_flat(jax.tree_util.tree_map(lambda a: a[0], res.params)), _flat(single.params),
                               rtol=1e-6, atol=1e-7)  # fmt: skip


# ------------------------------------------------------------------------------------------------------------
# Auxiliary outputs


def test_aux_is_recorded_as_the_epoch_mean_of_its_steps():
    data, params = _data(), MODEL.init(0)
    mse = train.supervised(MODEL.apply, losses.mse)

    def objective(p, batch):
        loss = mse(p, batch)
        return loss, {"twice": 2 * loss, "norm": jnp.sum(p[0]["w"] ** 2)}

    res = train.fit(objective, params, optax.sgd(0.05), data, key=0, epochs=4, batch_size=16, has_aux=True)
    # Closed forms: twice is 2 × the loss at every step, so its epoch mean is 2 × train_loss.
    np.testing.assert_allclose(res.history["train_twice"], 2 * res.history["train_loss"], rtol=1e-6)
    assert res.history["train_norm"].shape == (4,)
    plain = train.fit(mse, params, optax.sgd(0.05), data, key=0, epochs=4, batch_size=16)
    np.testing.assert_array_equal(_flat(res.params), _flat(plain.params))  # aux changes nothing else


@pytest.mark.parametrize(
    "aux, match",
    [(lambda l: [l], "mapping"), (lambda l: {"v": jnp.ones(3)}, "scalar"), (lambda l: {"loss": l}, "train_loss")],
    ids=["not_a_mapping", "not_scalar", "name_taken"],
)
def test_bad_aux_is_named_before_training(aux, match):
    mse = train.supervised(MODEL.apply, losses.mse)
    objective = lambda p, b: (mse(p, b), aux(mse(p, b)))
    with pytest.raises((TypeError, ValueError), match=match):
        train.fit(objective, MODEL.init(0), optax.sgd(0.1), _data(), key=0, epochs=1, has_aux=True)


# ------------------------------------------------------------------------------------------------------------
# A model state: batch normalization


def bn_objective(params, stats, batch, momentum=0.9):
    """Linear model on batch-normalized features; stats are the running mean/var (updated each step)."""
    x, y = batch
    mean, var = jnp.mean(x, 0), jnp.var(x, 0)
    z = (x - mean) / jnp.sqrt(var + 1e-5) * params["scale"] + params["shift"]
    loss = jnp.mean((z @ params["w"] - y) ** 2)
    new = {"mean": momentum * stats["mean"] + (1 - momentum) * mean,
           "var": momentum * stats["var"] + (1 - momentum) * var}  # fmt: skip
    return loss, jax.tree_util.tree_map(jax.lax.stop_gradient, new)


def bn_eval(params, stats, batch):
    x, y = batch
    z = (x - stats["mean"]) / jnp.sqrt(stats["var"] + 1e-5) * params["scale"] + params["shift"]
    return jnp.mean((z @ params["w"] - y) ** 2)


BN_PARAMS = {"w": jnp.zeros(D), "scale": jnp.ones(D), "shift": jnp.zeros(D)}
BN_STATS = {"mean": jnp.zeros(D), "var": jnp.ones(D)}


def test_batch_norm_statistics_are_carried_through_fit():
    x, y = _data()
    x = 3.0 * x + 1.0  # features far from N(0, 1): the running statistics must move
    opt = optax.adam(0.05)
    res = train.fit(bn_objective, BN_PARAMS, opt, (x, y), key=0, epochs=6, model_state=BN_STATS,
                    metrics={"eval": bn_eval})  # fmt: skip
    p, s, stats = BN_PARAMS, opt.init(BN_PARAMS), BN_STATS
    for _ in range(6):  # full batch: the same batch each step
        (_, stats_next), g = jax.value_and_grad(bn_objective, has_aux=True)(p, stats, (x, y))
        u, s = opt.update(g, s, p)
        p, stats = optax.apply_updates(p, u), stats_next
    np.testing.assert_allclose(_flat(res.params), _flat(p), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_flat(res.model_state), _flat(stats), rtol=1e-6)
    # Closed form of the running mean after 6 steps of the same batch: (1 − 0.9⁶) × the batch mean.
    np.testing.assert_allclose(res.model_state["mean"], (1 - 0.9**6) * np.mean(np.asarray(x), 0), rtol=1e-5)
    np.testing.assert_allclose(res.history["train_eval"][-1], bn_eval(p, stats, (x, y)), rtol=1e-5)


def test_batch_norm_statistics_are_restored_from_a_checkpoint(tmp_path):
    data = _data()

    class Stop(Exception):
        pass

    def stop(epoch, state):
        if epoch == 3:
            raise Stop

    fit = lambda folder, **kw: train.fit(
        bn_objective, BN_PARAMS, optax.adam(0.05), data, key=0, epochs=6, batch_size=16, model_state=BN_STATS,
        checkpoint_dir=folder, checkpoint_every=1, **kw,
    )  # fmt: skip
    with pytest.raises(Stop):
        fit(tmp_path, callback=stop, callback_every=1)
    resumed, reference = fit(tmp_path), fit(tmp_path / "ref")
    np.testing.assert_array_equal(_flat(resumed.model_state), _flat(reference.model_state))
    np.testing.assert_array_equal(_flat(resumed.params), _flat(reference.params))
    with pytest.raises(ValueError, match="model_state_content"):  # another initial state is another run
        train.fit(bn_objective, BN_PARAMS, optax.adam(0.05), data, key=0, epochs=6, batch_size=16,
                  model_state={"mean": jnp.ones(D), "var": jnp.ones(D)}, checkpoint_dir=tmp_path)  # fmt: skip


def test_a_model_state_of_another_shape_is_named():
    bad = lambda p, s, b: (bn_objective(p, s, b)[0], {"mean": jnp.zeros(D + 1), "var": s["var"]})
    with pytest.raises(ValueError, match="model state the objective returns"):
        train.fit(bad, BN_PARAMS, optax.sgd(0.1), _data(), key=0, epochs=1, model_state=BN_STATS)


# ------------------------------------------------------------------------------------------------------------
# Optimizers that need the loss, and MultiSteps


def _hand_loop(objective, params, opt, data, steps):
    s = opt.init(params)
    for _ in range(steps):
        value, g = jax.value_and_grad(objective)(params, data)
        u, s = opt.update(g, s, params, value=value)
        params = optax.apply_updates(params, u)
    return params, s


def test_reduce_on_plateau_inside_fit_equals_a_hand_loop():
    objective = train.supervised(MODEL.apply, losses.mse)
    opt = optax.chain(optax.sgd(0.3), optax.contrib.reduce_on_plateau(factor=0.5, patience=2, accumulation_size=1))
    data, params = _data(), MODEL.init(0)
    res = train.fit(objective, params, opt, data, key=0, epochs=40)
    want_params, want_state = _hand_loop(objective, params, opt, data, 40)
    np.testing.assert_allclose(_flat(res.params), _flat(want_params), rtol=1e-5, atol=1e-7)
    scale = optax.tree_utils.tree_get(res.opt_state, "scale")
    assert float(scale) == float(optax.tree_utils.tree_get(want_state, "scale")) < 1.0  # the plateau was reached


def test_multisteps_inside_fit_equals_a_hand_loop():
    objective = train.supervised(MODEL.apply, losses.mse)
    data, params = _data(), MODEL.init(0)
    multi = optax.MultiSteps(optax.adam(0.05), every_k_schedule=3)
    res = train.fit(objective, params, multi, data, key=0, epochs=7)
    want_params, _ = _hand_loop(objective, params, multi.gradient_transformation(), data, 7)
    np.testing.assert_allclose(_flat(res.params), _flat(want_params), rtol=1e-6, atol=1e-7)
    assert int(res.opt_state.gradient_step) == 2  # 7 mini-steps = 2 applied updates (+ 1 accumulating)


def test_polyak_step_size_gets_the_loss():
    objective = train.supervised(MODEL.apply, losses.mse)
    data, params = _data(), MODEL.init(0)
    opt = optax.polyak_sgd(max_learning_rate=1.0)
    res = train.fit(objective, params, opt, data, key=0, epochs=5)
    want, _ = _hand_loop(objective, params, opt, data, 5)
    np.testing.assert_allclose(_flat(res.params), _flat(want), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------------------------------------
# The divergence guard does not overflow


def test_float16_parameters_with_a_large_norm_at_an_optimum_are_not_diverged():
    # θ* = 300 per entry: Σθ² = 2.7e5 overflows float16 (max 65504), yet every entry is finite.
    x = jnp.ones((8, 3), jnp.float16)
    y = jnp.full((8,), 900.0, jnp.float16)
    params = {"w": jnp.full(3, 300.0, jnp.float16)}
    objective = lambda p, b: jnp.mean((b[0] @ p["w"] - b[1]).astype(jnp.float32) ** 2)
    res = train.fit(objective, params, optax.sgd(1e-6), (x, y), key=0, epochs=3)
    np.testing.assert_array_equal(np.asarray(res.params["w"], np.float32), 300.0)
    assert np.isfinite(res.history["train_loss"]).all()


def test_load_params_restores_a_checkpoint_without_the_trainer(tmp_path):
    data = _data()
    objective = train.supervised(MODEL.apply, losses.mse)
    res = train.fit(objective, MODEL.init(0), optax.adam(0.01), data, key=0, epochs=3, checkpoint_dir=tmp_path)
    np.testing.assert_array_equal(_flat(checkpoint.load_params(tmp_path)), _flat(res.params))


# ------------------------------------------------------------------------------------------------------------
# Labels out of the loss's range are named before training, not reported as divergence


@pytest.mark.parametrize("case", ["softmax_1_to_K", "binary_pm1"])
def test_labels_out_of_range_are_named_before_training(case):
    x = jax.random.normal(jax.random.PRNGKey(0), (40, 3))
    if case == "softmax_1_to_K":
        model, loss, y, match = models.linear(3, 10), losses.softmax_cross_entropy, np.arange(40) % 10 + 1, "0…9"
    else:
        model, loss, y, match = models.linear(3), losses.binary_cross_entropy, np.where(np.arange(40) % 2, 1, -1), "±1"
    ran = []
    with pytest.raises(ValueError, match=match):
        train.fit(train.supervised(model.apply, loss), model.init(0), optax.sgd(0.1), (x, y), key=0, epochs=2,
                  callback=lambda e, s: ran.append(e))  # fmt: skip
    assert ran == []
    with pytest.raises(ValueError, match="labels in val_data"):  # the validation split is checked too
        ok = np.clip(y, 0, 1) if case == "binary_pm1" else y - 1
        train.fit(train.supervised(model.apply, loss), model.init(0), optax.sgd(0.1), (x, ok), key=0, epochs=1,
                  val_data=(x, y))  # fmt: skip
