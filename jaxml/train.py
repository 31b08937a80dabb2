"""The one trainer: mini-batch gradient descent over epochs, compiled end to end.

Training minimizes an *objective* ``objective(params, batch) -> scalar`` — a pure function of a parameter
pytree and a batch (a pytree of arrays sharing a leading example axis, usually ``(x, y)``). Each epoch draws a
fresh permutation of the N examples from ``fold_in(key, epoch)``, cuts it into ⌊N/B⌋ batches of B (the
remainder of the permutation waits for a later epoch) and takes one optimizer step per batch:

    g = ∇θ L(θ; batch),   (u, s) = optimizer.update(g, s, θ, value=L),   θ ← θ + u

for any ``optax.GradientTransformation`` (or ``optax.MultiSteps``). The objective may also take a per-step PRNG key
(``rng=True``), return auxiliary scalars (``has_aux=True``) and carry a model state such as batch-norm statistics
(``model_state=``): :func:`fit` documents the contract. The per-step keys of epoch e are
``split(fold_in(fold_in(key, e), 1), steps)``, a stream apart from the batch order. Steps run in a ``lax.scan``
inside a ``lax.while_loop`` over epochs, so a whole run is one XLA program with no Python per step;
:func:`fit_sweep` vmaps that program over seeds or learning rates, training N models at once. The program is cached
by objective and metrics (the same objects) and shapes. Runtime values, not constants of the program: the number of
epochs (3 and 4 epochs share it; history buffers are sized to the next power of two) and an optimizer that is a
pytree of floats (every :mod:`jaxml.optim` optimizer with numeric η, β, λ, ε): another η or β compiles nothing. Any
other optimizer (optax's own, which close over their numbers; one with a learning-rate schedule) is a constant,
cached by object.

A step whose loss, gradient, new parameters or new model state are not finite is not applied: the run freezes at
the last finite state and :func:`fit` raises :class:`DivergenceError` naming the epoch and step and carrying that
state. Checkpoints know their run (:mod:`jaxml.checkpoint`): the same run resumes bit-identically, any other is
refused.

Data parallelism (``mesh=``, :mod:`jaxml.sharding`): each batch of B is split over the D devices of the mesh's
``"data"`` axis, θ is replicated and XLA all-reduces g = (1/B) Σ_d Σ_{n ∈ shard d} ∇ℓₙ(θ) — the one-device
trajectory up to float reassociation. :func:`fit_sweep` can also spread its N runs over a ``"sweep"`` axis.

Example:
    >>> import jax, optax
    >>> from jaxml import losses, models, train
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (256, 3)); y = x @ jax.numpy.array([1.0, -2.0, 0.5])
    >>> model = models.linear(3)
    >>> objective = train.supervised(model.apply, losses.mse)
    >>> result = train.fit(objective, model.init(jax.random.PRNGKey(1)), optax.sgd(0.1), (x, y),
    ...                    key=jax.random.PRNGKey(2), epochs=50, batch_size=32)
    >>> bool(result.history["train_loss"][-1] < 1e-6)
    True
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from jaxml import _checks, checkpoint, io, losses, sharding
from jaxml.losses import l2_penalty
from jaxml.optim.combine import numeric_pytree as _float_pytree
from jaxml.sharding import DATA_AXIS, SWEEP_AXIS

Array = jax.Array
PyTree = Any
#: The type of an objective — ``objective(params, batch) -> scalar loss`` (its contract widens with :func:`fit`'s
#: ``rng``, ``has_aux`` and ``model_state``).
Objective = Callable[[PyTree, PyTree], Array]
#: The type of a metric — ``fn(params, batch) -> scalar``, evaluated on a whole split at the end of each epoch.
Metric = Callable[[PyTree, PyTree], Array]

__all__ = [
    "DivergenceError", "FitResult", "Metric", "Objective", "TrainState", "fit", "fit_sweep", "supervised",
]  # fmt: skip


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or gradient.

    Attributes:
        epoch: the epoch (0-based) in which the first non-finite step happened.
        step: that step's index within the epoch.
        params: the last finite θ (the update that diverged was not applied); θ₀ itself when the very first
            step (epoch 0, step 0) is not finite.
        opt_state: the optimizer state that goes with ``params`` (``optimizer.init(θ₀)`` when the very first
            step is not finite).
        model_state: the model state that goes with ``params`` (None without one).
        history: the per-epoch history up to and including the diverged epoch, whose "train_loss" and
            "train_<aux>" are NaN (the epoch did not complete) and whose "val_loss" and metrics are those of
            ``params``.
    """

    def __init__(  # fmt: skip
        self, epoch: int, step: int, params: PyTree, opt_state: PyTree, history: dict[str, np.ndarray],
        model_state: PyTree = None,
    ):
        super().__init__(
            f"training diverged: non-finite loss or gradient at epoch {epoch}, step {step}; "
            "the last finite parameters are in .params (try a smaller learning rate)"
        )
        self.epoch, self.step = epoch, step
        self.params, self.opt_state, self.history, self.model_state = params, opt_state, history, model_state


class FitResult(NamedTuple):
    """What training returns.

    ``history`` maps "train_loss" (the mean mini-batch loss of each epoch), "val_loss" and
    "train_<metric>"/"val_<metric>" (evaluated on the whole split at each epoch's end) and, with ``has_aux``,
    "train_<aux>" (the epoch's mean of each auxiliary output over its steps) to arrays of one value per epoch —
    with a leading run axis N for :func:`fit_sweep`. ``diverged_epoch`` is −1 for runs that stayed finite, else
    the epoch where they froze (always all −1 for :func:`fit`, which raises instead). ``model_state`` is the
    final model state (None without ``model_state=``).

    Attributes:
        params: the final θ (with a leading run axis N for :func:`fit_sweep`).
        opt_state: the final optimizer state s.
        history: history entry name → ``numpy.ndarray`` of one value per epoch, shape (epochs,) or (N, epochs).
        diverged_epoch: ``numpy.ndarray`` of int, shape () for :func:`fit` or (N,) for :func:`fit_sweep`: −1 for
            a run that stayed finite, else the epoch where it froze.
        model_state: the final model state, or None.
    """

    params: PyTree
    opt_state: PyTree
    history: dict[str, np.ndarray]
    diverged_epoch: np.ndarray
    model_state: PyTree = None


class TrainState(NamedTuple):
    """The training state a callback sees (like flax's ``TrainState``): θ, the optimizer state s, the number of
    epochs completed, and the model state (None without one).

    Attributes:
        params: θ after ``epoch`` epochs.
        opt_state: the optimizer state s.
        epoch: the number of epochs completed.
        model_state: the model state, or None.
    """

    params: PyTree
    opt_state: PyTree
    epoch: int
    model_state: PyTree = None


class _Carry(NamedTuple):  # the compiled loop's state (also what a checkpoint holds, θ apart)
    params: PyTree
    opt_state: PyTree
    model_state: PyTree  # None unless the objective carries one (batch-norm statistics)
    epoch: Array  # the next epoch to run
    diverged_epoch: Array  # −1 while finite
    diverged_step: Array
    history: dict[str, Array]  # (epochs,) buffers, NaN where not run yet


def supervised(  # fmt: skip
    apply: Callable[[PyTree, Any], Array], loss: Callable[[Array, Array], Array], l2: float = 0.0,
    l2_mask: PyTree | None = None,
) -> Objective:
    """The objective L(θ) = loss(apply(θ, x), y) + λ·Σθ² of a supervised model on a batch ``(x, y)``.

    ``l2`` is λ; the penalty skips biases unless ``l2_mask`` says otherwise (see :func:`jaxml.losses.l2_penalty`).
    Each batch must be an ``(x, y)`` pair, so the trainer's ``data`` is ``(x, y)``, not ``x`` alone.

    Args:
        apply: the model, ``apply(params, x) -> outputs`` (e.g. ``model.apply``).
        loss: the loss of a batch, ``loss(outputs, y) -> scalar`` (e.g. :func:`jaxml.losses.mse`).
        l2: λ ≥ 0, the weight of the L2 penalty Σθ² (0: none).
        l2_mask: a pytree of bools like ``params`` saying which leaves the penalty covers; None: every leaf
            but the biases (see :func:`jaxml.losses.l2_penalty`).

    Returns:
        Objective: ``objective(params, batch) -> scalar``, which raises ``TypeError`` when ``batch`` is not an
        ``(x, y)`` pair. Its ``check_data`` attribute lets :func:`fit` check the labels' range for jaxml's
        classification losses on the concrete data before training.

    Raises:
        TypeError: if ``l2`` is not a real number.
        ValueError: if ``l2`` is negative or not finite.
    """
    _checks.real(l2, "l2", low=0.0)

    def objective(params: PyTree, batch: tuple[Any, Array]) -> Array:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            got = f"an array of shape {np.shape(batch)}" if hasattr(batch, "shape") else type(batch).__name__
            raise TypeError(f"a supervised objective needs each batch as an (x, y) pair: pass data=(x, y), got {got}")
        x, y = batch
        value = loss(apply(params, x), y)
        if l2:
            value = value + l2 * l2_penalty(params, l2_mask)
        return value

    def check_data(params: PyTree, data: Any, name: str) -> None:
        """The labels' range for jaxml's classification losses (:func:`jaxml.losses.check_targets`), on the
        concrete data before training: under ``jit`` a label out of range only shows as a NaN loss."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            return
        x, y = data
        out = jax.eval_shape(apply, params, jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct(np.shape(a), jnp.result_type(a)), x))  # fmt: skip
        # to_host gathers labels spread over processes (every process runs this check alike).
        losses.check_targets(loss, sharding.to_host(y), getattr(out, "shape", ()), name=f"labels in {name}")

    objective.check_data = check_data  # type: ignore[attr-defined]
    return objective


# ------------------------------------------------------------------------------------------------------------
# Inputs


def _run_slice(tree: PyTree, name: str, n_runs: int) -> PyTree:
    """Run 0's data of per-run data (every array (N, examples, …), finite): :func:`_prepare` and
    :func:`_check_outputs` check one run's data on it; ``ValueError`` naming ``name`` and the shapes otherwise."""
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves or any(np.ndim(a) < 2 or np.shape(a)[0] != n_runs for a in leaves):
        shapes = [tuple(np.shape(a)) for a in leaves]
        raise ValueError(
            f"with data_per_run=True every array in {name} must have shape (N, examples, ...) with N = {n_runs} "
            f"runs (len(keys)), got shapes {shapes}"
        )
    _checks.examples(tree, name)  # finite in every run, not only in run 0
    return jax.tree_util.tree_map(lambda a: a[0], tree)


class _Contract(NamedTuple):
    """How the objective is called: the flags of :func:`fit` that widen ``objective(params, batch) -> loss``."""

    has_aux: bool  # returns (loss, aux) with aux a mapping name -> scalar
    rng: bool  # takes a per-step PRNG key as its last argument (None when evaluating)
    stateful: bool  # takes and returns a model state: objective(params, model_state, batch, ...)


def _cached(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``functools.lru_cache`` that calls through for unhashable arguments: wrappers built by it are the same
    objects call after call, so JAX's trace caches (keyed by function identity) keep working."""
    cached = functools.lru_cache(maxsize=64)(fn)

    def call(*args: Any) -> Any:
        try:
            hash(args)
        except TypeError:
            return fn(*args)
        return cached(*args)

    return call


@_cached
def _normalized(objective: Objective, contract: _Contract) -> Callable[..., tuple]:
    """``objective`` as ``f(params, model_state, batch, key) -> (loss, (model_state, aux))``, whatever its contract."""

    def fn(params: PyTree, model_state: PyTree, batch: PyTree, key: Array | None) -> tuple:
        args = (params, model_state, batch) if contract.stateful else (params, batch)
        out = objective(*args, key) if contract.rng else objective(*args)
        if contract.has_aux or contract.stateful:
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                expected = "(loss, model_state)" if not contract.has_aux else "(loss, aux)"
                if contract.has_aux and contract.stateful:
                    expected = "(loss, (model_state, aux))"
                raise TypeError(f"objective must return {expected} with these flags, got {type(out).__name__}")
            loss, rest = out
        else:
            loss, rest = out, None
        if contract.has_aux and contract.stateful:
            if not isinstance(rest, (tuple, list)) or len(rest) != 2:
                raise TypeError(f"objective must return (loss, (model_state, aux)), got (loss, {type(rest).__name__})")
            new_state, aux = rest
        elif contract.stateful:
            new_state, aux = rest, {}
        else:
            new_state, aux = model_state, (rest if contract.has_aux else {})
        return loss, (new_state, aux)

    return fn


@_cached
def _loss_only(objective: Objective, contract: _Contract) -> Callable[..., Array]:
    fn = _normalized(objective, contract)
    return lambda *args: fn(*args)[0]


@_cached
def _ignoring_state(metric: Metric) -> Callable[..., Array]:
    return lambda params, model_state, batch: metric(params, batch)


def _normalized_metrics(metrics: Mapping[str, Metric], stateful: bool) -> dict[str, Callable[..., Array]]:
    """Every metric as ``m(params, model_state, batch)`` (a metric of a stateless run ignores the state)."""
    return dict(metrics) if stateful else {name: _ignoring_state(fn) for name, fn in metrics.items()}


def _check_outputs(setup: _Setup, params: PyTree, model_state: PyTree, data: PyTree, val_data: PyTree | None) -> None:
    """The objective on a batch of B and on val_data, and each metric on each split, give what the contract says:
    a floating scalar loss, a model state shaped like the one given, aux a mapping of scalars (traced only)."""
    struct = lambda a, n=None: jax.ShapeDtypeStruct((n or np.shape(a)[0], *np.shape(a)[1:]), jnp.result_type(a))
    batch = jax.tree_util.tree_map(lambda a: struct(a, setup.batch_size), data)
    fn = _normalized(setup.objective, setup.contract)
    key = jax.ShapeDtypeStruct((), jax.random.key(0).dtype) if setup.contract.rng else None
    loss = _loss_only(setup.objective, setup.contract)
    _checks.scalar_output(loss, (params, model_state, batch, key), "objective", floating=True)
    _, (new_state, aux) = jax.eval_shape(fn, params, model_state, batch, key)
    if setup.contract.stateful:
        _checks.tree_shapes(new_state, model_state, "the model state the objective returns")
    if setup.contract.has_aux:
        _check_aux(aux, setup)
    metrics = _normalized_metrics(setup.metrics, setup.contract.stateful)
    for split, whole in (("data", data), ("val_data", val_data)) if val_data is not None else (("data", data),):
        whole = jax.tree_util.tree_map(struct, whole)
        if split == "val_data":
            _checks.scalar_output(loss, (params, model_state, whole, None), "objective on val_data", floating=True)
        for name, m in metrics.items():
            _checks.scalar_output(m, (params, model_state, whole), f"metrics[{name!r}] on {split}")


def _check_data(objective: Objective, params: PyTree, data: PyTree, val_data: PyTree, per_run: bool = False) -> None:
    """What the objective checks on concrete data (a supervised objective: the labels' range for its loss)."""
    check = getattr(objective, "check_data", None)
    if check is None:
        return
    for name, split in (("data", data), ("val_data", val_data)):
        if split is not None:
            if per_run:
                split = jax.tree_util.tree_map(lambda a: np.reshape(a, (-1, *np.shape(a)[2:])), split)
            check(params, split, name)


def _check_aux(aux: Any, setup: _Setup) -> None:
    if not isinstance(aux, Mapping) or not all(isinstance(k, str) for k in aux):
        got = type(aux).__name__
        raise TypeError(f"with has_aux=True the objective's aux must be a mapping name -> scalar, got {got}")
    for name, value in aux.items():
        if getattr(value, "shape", None) != () or not jnp.issubdtype(value.dtype, jnp.number):
            got = f"shape {getattr(value, 'shape', None)}"
            raise ValueError(f"aux[{name!r}] must be a real scalar (it is averaged over each epoch's steps), got {got}")
        if f"train_{name}" in setup.names:
            raise ValueError(f"aux[{name!r}] would be recorded as 'train_{name}', which a metric or the loss is")


class _Setup(NamedTuple):
    objective: Objective
    contract: _Contract
    epochs: int
    progress: bool | None
    n_train: int
    batch_size: int
    metrics: dict[str, Metric]
    names: list[str]  # history entries (aux entries are added once the aux's names are known)
    mesh: Mesh | None


def _prepare(  # fmt: skip
    objective: Objective, data: PyTree, val_data: PyTree | None, metrics: Mapping[str, Metric] | None, *,
    epochs: int, batch_size: int | None, progress: bool | None, mesh: Mesh | None, sweep: bool,
    has_aux: bool = False, rng: bool = False, stateful: bool = False,
) -> _Setup:
    """What :func:`fit` and :func:`fit_sweep` check alike: objective, data, metrics, epochs, B, the mesh (axis
    "data" for fit; "sweep" and/or "data" for a sweep), the objective's contract flags."""
    _checks.callable_(objective, "objective", "a function objective(params, batch) -> scalar")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None (only on a terminal), got {progress!r}")
    for name, flag in (("has_aux", has_aux), ("rng", rng)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    metrics = _checks.functions(metrics, "metrics", "fn(params, batch) -> scalar")
    n_train = _checks.examples(data, "data")
    if val_data is not None:
        _checks.examples(val_data, "val_data")
    epochs = _checks.positive_int(epochs, "epochs")
    if batch_size is None:
        batch_size = n_train
    elif _checks.positive_int(batch_size, "batch_size") > n_train:
        raise ValueError(f"batch_size ({batch_size}) exceeds the number of training examples in data ({n_train})")
    if mesh is not None:
        axes, required = ((SWEEP_AXIS, DATA_AXIS), ()) if sweep else ((DATA_AXIS,), (DATA_AXIS,))
        name = f"mesh for {'fit_sweep' if sweep else 'fit'}"
        mesh = sharding.check_mesh(mesh, allowed=axes, required=required, name=name)
        what = "batch_size" if batch_size < n_train else "the full batch (batch_size=None) of N examples"
        sharding.check_divisible(batch_size, what, mesh, DATA_AXIS)
    names = ["train_loss"] + (["val_loss"] if val_data is not None else [])
    for m in metrics:
        names += [f"train_{m}"] + ([f"val_{m}"] if val_data is not None else [])
    contract = _Contract(bool(has_aux), bool(rng), bool(stateful))
    return _Setup(objective, contract, int(epochs), progress, n_train, int(batch_size), metrics, names, mesh)


def _with_aux_names(setup: _Setup, params: PyTree, model_state: PyTree, data: PyTree) -> _Setup:
    """The setup with one history entry "train_<name>" per auxiliary output (known only by tracing)."""
    if not setup.contract.has_aux:
        return setup
    struct = lambda a: jax.ShapeDtypeStruct((setup.batch_size, *np.shape(a)[1:]), jnp.result_type(a))
    key = jax.ShapeDtypeStruct((), jax.random.key(0).dtype) if setup.contract.rng else None
    fn = _normalized(setup.objective, setup.contract)
    _, (_, aux) = jax.eval_shape(fn, params, model_state, jax.tree_util.tree_map(struct, data), key)
    return setup._replace(names=setup.names + [f"train_{name}" for name in sorted(aux)])


# ------------------------------------------------------------------------------------------------------------
# The compiled loop


def _tree_all_finite(tree: PyTree) -> Array:
    """Whether every entry of the tree is finite, in one fused reduction per leaf: max |x| is NaN or inf exactly
    when some entry is (a max does not overflow the way a sum of squares does, e.g. in float16)."""
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        return jnp.array(True)
    return jnp.isfinite(functools.reduce(jnp.maximum, (jnp.max(jnp.abs(leaf)) for leaf in leaves)))


def _step_keys(key: Array, epoch: Array, steps: int) -> Array:
    """The per-step keys of one epoch: ``split(fold_in(fold_in(key, epoch), 1), steps)`` — a stream apart from
    the batch order's ``permutation(fold_in(key, epoch))``, so asking for keys leaves the batches as they were."""
    epoch_key = jax.random.fold_in(jax.random.wrap_key_data(key), epoch)
    return jax.random.split(jax.random.fold_in(epoch_key, 1), steps)


def _make_runner(
    objective: Objective,
    contract: _Contract,
    make_optimizer: Callable[[Any], optax.GradientTransformation],
    metrics: Mapping[str, Metric],
    *,
    n_train: int,
    batch_size: int,
    mesh: Mesh | None,
) -> Callable[..., _Carry]:
    """The core: run epochs [state.epoch, stop) of one model, stopping early on divergence.

    With a mesh, each epoch's batches (steps, B, …) are constrained to be split along B over "data": the
    gather ``data[perm]`` then produces every device's shard in place (the data are replicated, so no
    communication), and the only collective per step is the all-reduce of the gradient over "data".
    """
    steps = n_train // batch_size
    fn = _normalized(objective, contract)
    value_and_grad = jax.value_and_grad(fn, has_aux=True)
    metrics = _normalized_metrics(metrics, contract.stateful)
    constrain = sharding.constrainer(mesh)

    def run(state: _Carry, stop: Array, key: Array, hparam: Any, data: PyTree, val_data: PyTree) -> _Carry:
        optimizer = optax.with_extra_args_support(make_optimizer(hparam))
        # Whole-split metrics split their examples over "data" too (a local slice of the replicated data).
        metric_data = constrain(data, 0)
        metric_val = None if val_data is None else constrain(val_data, 0)

        def step(carry: tuple, inputs: tuple) -> tuple:
            params, model_state, opt_state, bad_step, i = carry
            batch, step_key = inputs
            (loss, (new_model_state, aux)), grads = value_and_grad(params, model_state, batch, step_key)
            # value= and value_fn= serve optimizers that need the loss (reduce_on_plateau, Polyak, L-BFGS);
            # every other transformation ignores them.
            value_fn = lambda p: fn(p, model_state, batch, step_key)[0]
            updates, new_opt_state = optimizer.update(
                grads, opt_state, params, value=loss, grad=grads, value_fn=value_fn
            )
            new_params = optax.apply_updates(params, updates)
            ok = jnp.isfinite(loss) & _tree_all_finite(grads) & _tree_all_finite(new_params) & (bad_step < 0)
            if contract.stateful:
                ok = ok & _tree_all_finite(new_model_state)
            # One conditional, not a select per leaf: fewer kernels to compile and to run (under vmap it
            # becomes the per-leaf select anyway).
            new = jax.lax.cond(
                ok,
                lambda: (new_params, new_model_state, new_opt_state),
                lambda: (params, model_state, opt_state),
            )
            bad_step = jnp.where((bad_step < 0) & ~ok, i, bad_step)
            return (*new, bad_step, i + 1), (loss, aux)

        def epoch_body(state: _Carry) -> _Carry:
            e = state.epoch
            if batch_size == n_train:
                batches = jax.tree_util.tree_map(lambda a: a[None], data)
            else:
                perm = jax.random.permutation(jax.random.fold_in(key, e), n_train)[: steps * batch_size]
                # Split the indices over "data" before gathering: each device then gathers only its own
                # B/D rows of every batch from its replica of the data (no communication, no redundant copy).
                index = constrain(perm.reshape(steps, batch_size), 1)
                batches = jax.tree_util.tree_map(lambda a: a[index], data)
            batches = constrain(batches, 1)
            step_keys = _step_keys(key, e, steps) if contract.rng else None
            init = (
                state.params, state.model_state, state.opt_state, jnp.array(-1, jnp.int32), jnp.array(0, jnp.int32)
            )  # fmt: skip
            (params, model_state, opt_state, bad_step, _), (batch_losses, aux) = jax.lax.scan(
                step, init, (batches, step_keys)
            )
            diverged = bad_step >= 0
            record = {"train_loss": jnp.where(diverged, jnp.nan, jnp.mean(batch_losses))}
            for name, values in aux.items():
                record[f"train_{name}"] = jnp.where(diverged, jnp.nan, jnp.mean(values))
            if val_data is not None:
                record["val_loss"] = fn(params, model_state, metric_val, None)[0]
            for name, m in metrics.items():
                record[f"train_{name}"] = m(params, model_state, metric_data)
                if val_data is not None:
                    record[f"val_{name}"] = m(params, model_state, metric_val)
            history = {k: buf.at[e].set(jnp.asarray(record[k], buf.dtype)) for k, buf in state.history.items()}
            return _Carry(
                params=params,
                opt_state=opt_state,
                model_state=model_state,
                epoch=e + 1,
                diverged_epoch=jnp.where(diverged, e, state.diverged_epoch),
                diverged_step=jnp.where(diverged, bad_step, state.diverged_step),
                history=history,
            )

        cond = lambda s: (s.epoch < stop) & (s.diverged_epoch < 0)
        return jax.lax.while_loop(cond, epoch_body, state)

    return run


@functools.lru_cache(maxsize=64)
def _cached_runner(  # fmt: skip
    *, objective: Objective, contract: _Contract, optimizer: Any, is_factory: bool,
    metrics: tuple[tuple[str, Metric], ...], n_train: int, batch_size: int, sweep: bool, mesh: Mesh | None,
    data_per_run: bool = False,
) -> Callable[..., _Carry]:
    """``optimizer``: the transformation, a factory of the per-run argument (``is_factory``) or None: the argument.
    ``data_per_run``: a sweep's data and val_data carry a leading run axis (run i reads slice i)."""
    make = (lambda given: given) if optimizer is None else optimizer if is_factory else (lambda _: optimizer)
    core = _make_runner(
        objective, contract, make, dict(metrics), n_train=n_train, batch_size=batch_size, mesh=mesh
    )  # fmt: skip
    if sweep:
        # vmap over the state, the batch-order key and the hyper-parameter; the data are shared unless each run
        # has its own (data_per_run). With a "sweep" mesh axis, spmd_axis_name splits the run dimension of every
        # intermediate over it.
        spmd = SWEEP_AXIS if mesh is not None and SWEEP_AXIS in mesh.axis_names else None
        data_axis = 0 if data_per_run else None
        core = jax.vmap(core, in_axes=(0, None, 0, 0, data_axis, data_axis), spmd_axis_name=spmd)
    if mesh is None:
        return jax.jit(core)
    # Pin the state's layout so that chunk after chunk it stays where it started (replicated, or runs over
    # "sweep"); a Mesh and its NamedShardings are hashable, so this runner is cached like any other.
    return jax.jit(core, out_shardings=sharding.state_sharding(mesh, sweep=sweep))


def _init_state(optimizer: Any, params: PyTree) -> PyTree:
    """s⁰ = optimizer.init(θ): for a pytree of floats one program per structure (not one per parameter shape)."""
    return _init_jit(_host_leaves(optimizer), params) if _float_pytree(optimizer) else optimizer.init(params)


_init_jit = jax.jit(lambda optimizer, params: optimizer.init(params))
_host_leaves = functools.partial(jax.tree_util.tree_map, lambda a: np.asarray(a, jnp.result_type(a)))


def _compiled_runner(setup: _Setup, **parts: Any) -> Callable[..., _Carry]:
    """The jitted runner, cached by the objective, optimizer (None when it is an argument) and metrics objects
    (they hash by identity); a callable with ``__eq__`` but no ``__hash__`` gets a runner of its own."""
    parts.update(objective=setup.objective, contract=setup.contract, metrics=tuple(setup.metrics.items()))
    parts.update(mesh=setup.mesh)
    parts.update(n_train=setup.n_train, batch_size=setup.batch_size)
    try:
        hash(tuple(parts.values()))
    except TypeError:
        return _cached_runner.__wrapped__(**parts)
    return _cached_runner(**parts)


def _history_length(epochs: int) -> int:
    """2^⌈log₂ epochs⌉: the epoch count is a runtime value of the compiled loop (``stop``), so a run of another
    length in the same power-of-two bucket reuses the compiled program."""
    return 1 << (int(epochs) - 1).bit_length()


def _initial_state(  # fmt: skip
    params: PyTree, opt_state: PyTree, model_state: PyTree, names: list[str], epochs: int, lead: tuple = (),
) -> _Carry:
    """The state before epoch 0: history buffers (NaN until run, :func:`_history_length` of them) in the
    parameters' float type."""
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(params))
    dtype = dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)
    minus_one = np.full(lead, -1, np.int32)  # NumPy: no small program to compile per shape
    history = {k: np.full(lead + (_history_length(epochs),), np.nan, dtype) for k in names}
    return _Carry(params, opt_state, model_state, np.zeros(lead, np.int32), minus_one, minus_one, history)


def _resized(state: _Carry, length: int) -> _Carry:
    """``state`` with history buffers of ``length`` entries, cut or padded with NaN: a checkpoint of a shorter
    run has shorter buffers than the run that extends it."""

    def fit_to(a: Any) -> np.ndarray:
        a = np.asarray(a)
        if length <= a.shape[-1]:
            return a[..., :length]
        return np.concatenate([a, np.full(a.shape[:-1] + (length - a.shape[-1],), np.nan, a.dtype)], axis=-1)

    return state._replace(history={k: fit_to(v) for k, v in state.history.items()})


# ------------------------------------------------------------------------------------------------------------
# The host loop


def _drive(
    run: Callable[..., _Carry],
    state: _Carry,
    args: tuple,
    *,
    epochs: int,
    progress: bool | None,
    save: Callable[[int, _Carry], Any] | None = None,
    checkpoint_every: int | None = None,
    callback: Callable[[int, TrainState], None] | None = None,
    callback_every: int | None = None,
) -> _Carry:
    """Host loop over chunks of epochs (one compiled call each): progress, checkpoints, callbacks; it stops
    early once every run (the one of :func:`fit`, all of :func:`fit_sweep`) has diverged.

    A chunk ends at every multiple of ``checkpoint_every`` and ``callback_every`` (and about 50 times a run
    with a progress bar); the state is saved at multiples of ``checkpoint_every`` and ``callback`` called at
    multiples of ``callback_every`` — after every chunk when that period is None — and both after the last.
    """
    if progress is None:
        progress = sys.stderr.isatty() and os.environ.get("CI") is None
    pace = callback_every if callback is not None else None
    periods = [p for p in (checkpoint_every, pace, -(-epochs // 50) if progress else None) if p]
    stop_early = lambda s: bool(np.all(sharding.to_host(s.diverged_epoch) >= 0))
    due = lambda stop, every: every is None or stop % every == 0 or stop == epochs
    epoch = int(np.max(sharding.to_host(state.epoch)))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, initial=epoch, unit="epoch", leave=False)
    try:
        while epoch < epochs and not stop_early(state):
            stop = min([epochs] + [(epoch // p + 1) * p for p in periods])
            state = run(state, np.int32(stop), *args)
            epoch = stop
            if bar is not None:
                loss = np.nanmean(sharding.to_host(state.history["train_loss"])[..., stop - 1])
                bar.update(stop - bar.n)
                bar.set_postfix(loss=f"{float(loss):.4g}")
            if save is not None and due(stop, checkpoint_every) and not stop_early(state):
                save(stop, state)
            if callback is not None and due(stop, callback_every):
                callback(epoch, TrainState(state.params, state.opt_state, epoch, state.model_state))
    finally:
        if bar is not None:
            bar.close()
    return state


def _train(  # fmt: skip
    setup: _Setup, state: _Carry, per_run: tuple, data: PyTree, val_data: PyTree, *,
    optimizer: Any, is_factory: bool, sweep: bool, data_per_run: bool = False, **drive: Any,
) -> tuple:
    """What :func:`fit` and :func:`fit_sweep` run alike: place the inputs, compile (or reuse) the runner, drive
    it (``drive``: :func:`_drive`'s keywords); the final state and host history. A pytree-of-floats optimizer
    is an argument, not closed over: host arrays of one dtype (one jit key), one copy per run of a sweep."""
    if not is_factory and _float_pytree(optimizer):
        grow = lambda a: np.broadcast_to(a, np.shape(state.epoch) + np.shape(a))
        per_run, optimizer = (per_run[0], jax.tree_util.tree_map(grow, _host_leaves(optimizer))), None
    state, per_run, data, val_data = sharding.place_run(setup.mesh, state, per_run, data, val_data, sweep=sweep)
    run = _compiled_runner(setup, optimizer=optimizer, is_factory=is_factory, sweep=sweep, data_per_run=data_per_run)
    state = _drive(run, state, (*per_run, data, val_data), epochs=setup.epochs, progress=setup.progress, **drive)
    return state, {k: sharding.to_host(v)[..., : setup.epochs] for k, v in state.history.items()}


def _as_transformation(optimizer: Any, name: str = "optimizer") -> optax.GradientTransformation:
    """An ``optax.GradientTransformation``; ``optax.MultiSteps`` (which is not one) through its
    ``gradient_transformation()``."""
    if not isinstance(optimizer, optax.GradientTransformation) and callable(
        getattr(optimizer, "gradient_transformation", None)
    ):
        optimizer = optimizer.gradient_transformation()
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"{name} must be an optax.GradientTransformation (or optax.MultiSteps), got "
                        f"{type(optimizer).__name__}")  # fmt: skip
    return optimizer


def _check_model_state(model_state: PyTree, lead: int | None = None) -> None:
    """A model state: a pytree of arrays (finite floats, or integers such as a step count)."""
    leaves = jax.tree_util.tree_leaves(model_state)
    if not leaves:
        raise ValueError("model_state must be a pytree with at least one array (pass None for a stateless objective)")
    for path, leaf in jax.tree_util.tree_flatten_with_path(model_state)[0]:
        name = f"model_state{jax.tree_util.keystr(path)}"
        if not hasattr(leaf, "dtype") and not isinstance(leaf, (int, float)):
            raise TypeError(f"{name} must be an array, got {type(leaf).__name__}")
        if lead is not None and (np.ndim(leaf) == 0 or np.shape(leaf)[0] != lead):
            raise ValueError(f"{name} must have a leading run axis of {lead} (one state per run), got {np.shape(leaf)}")
        if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            _checks.finite(leaf, name)


def _checkpointing(  # fmt: skip
    checkpoint_dir: str | os.PathLike, setup: _Setup, state: _Carry, *, optimizer: Any, raw_key: Array,
    data: PyTree, val_data: PyTree | None, keep: int | None, best: tuple[str, str] | None,
) -> tuple[_Carry, Callable[[int, _Carry], None], Callable[[], None]]:
    """The state to start from (this run's latest checkpoint, else ``state``), ``save(epoch, state)`` and
    ``close()`` (orbax's manager)."""
    struct = lambda a, n=None: jax.ShapeDtypeStruct(np.shape(a) if n is None else (n, *np.shape(a)[1:]),
                                                    jnp.result_type(a))  # fmt: skip
    tree = lambda t: jax.tree_util.tree_map(struct, t)
    fn = _normalized(setup.objective, setup.contract)
    metrics = _normalized_metrics(setup.metrics, setup.contract.stateful)
    opt = optax.with_extra_args_support(optimizer)
    key = jax.ShapeDtypeStruct((), jax.random.key(0).dtype) if setup.contract.rng else None

    def one_step(params: PyTree, model_state: PyTree, opt_state: PyTree, batch: PyTree, key: Any) -> tuple:
        (loss, (model_state, aux)), grads = jax.value_and_grad(fn, has_aux=True)(params, model_state, batch, key)
        value_fn = lambda p: fn(p, model_state, batch, key)[0]
        updates, opt_state = opt.update(grads, opt_state, params, value=loss, grad=grads, value_fn=value_fn)
        return optax.apply_updates(params, updates), model_state, opt_state, loss, aux

    measure = lambda params, model_state, split: {name: m(params, model_state, split) for name, m in metrics.items()}
    batch = jax.tree_util.tree_map(lambda a: struct(a, setup.batch_size), data)
    fingerprint = checkpoint.run_fingerprint(
        step=one_step, step_args=(tree(state.params), tree(state.model_state), tree(state.opt_state), batch, key),
        measure=measure if metrics else None, measure_args=(tree(state.params), tree(state.model_state), tree(data)),
        optimizer=optimizer, params=state.params, model_state=state.model_state, opt_state=state.opt_state,
        data=data, val_data=val_data, key=raw_key, batch_size=setup.batch_size, history=setup.names,
    )  # fmt: skip
    length = _history_length(setup.epochs)
    rest = lambda st: st._replace(params=None)
    params, rest_state, save, close = checkpoint.resume(
        checkpoint_dir, state.params, rest(state), fingerprint, epochs=setup.epochs, keep=keep, best=best,
        resize=lambda st, n: _resized(st, length if n is None else n),
    )  # fmt: skip
    start = rest_state._replace(params=params)

    def save_state(epoch: int, state: _Carry) -> None:
        host = sharding.to_host(state.history)
        metrics = {k: float(v[..., epoch - 1]) for k, v in host.items()}
        save(epoch, state.params, rest(state), metrics, history_length=int(next(iter(host.values())).shape[-1]))

    return start, save_state, close


def _check_best(best: Any, keep: Any, setup: _Setup) -> tuple[tuple[str, str] | None, int | None]:
    if keep is not None:
        keep = _checks.positive_int(keep, "checkpoint_keep")
    if best is None:
        return None, keep
    if isinstance(best, str):
        best = (best, "min")
    if not (isinstance(best, (tuple, list)) and len(best) == 2 and best[1] in ("min", "max")):
        raise ValueError(f"checkpoint_best must be a history entry name or (name, 'min' | 'max'), got {best!r}")
    if best[0] not in setup.names:
        raise ValueError(f"checkpoint_best names {best[0]!r}, which is not recorded; the history has {setup.names}")
    return (str(best[0]), str(best[1])), keep


def fit(
    objective: Objective,
    params: PyTree,
    optimizer: optax.GradientTransformation,
    data: PyTree,
    *,
    key: Array | int,
    epochs: int,
    batch_size: int | None = None,
    val_data: PyTree | None = None,
    metrics: Mapping[str, Metric] | None = None,
    has_aux: bool = False,
    rng: bool = False,
    model_state: PyTree | None = None,
    progress: bool | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    checkpoint_keep: int | None = 1,
    checkpoint_best: str | tuple[str, str] | None = None,
    callback: Callable[[int, TrainState], None] | None = None,
    callback_every: int | None = None,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train ``params`` on ``data`` with ``optimizer`` for ``epochs`` epochs of mini-batch descent.

    The objective's contract is ``objective(params, batch) -> loss`` by default, and widens with three flags
    (any combination), as flax's ``TrainState`` loops and equinox's ``filter_value_and_grad(has_aux=True)`` do:

    ========================  =================================================================================
    flag                      the objective
    ========================  =================================================================================
    ``rng=True``              takes a per-step PRNG key as its last argument: ``objective(params, batch, key)``
                              — a fresh key each step (dropout, noise injection), derived from ``key``; it is
                              None where the trainer only evaluates (``val_loss``): switch stochastic layers off
    ``has_aux=True``          returns ``(loss, aux)``, aux a mapping name → scalar; history gets
                              "train_<name>", the epoch's mean over its steps
    ``model_state=s``         takes and returns a mutable state: ``objective(params, s, batch) -> (loss, s')``
                              (``(loss, (s', aux))`` with ``has_aux``): batch-norm statistics. ``jax.grad``
                              differentiates θ only; s' carries to the next step, is checkpointed and returned
                              as ``FitResult.model_state``. Metrics then receive it too: ``fn(params, s, batch)``
    ========================  =================================================================================

    Args:
        objective: the loss of a batch (see :func:`supervised` and the flags above).
        params: the initial parameter pytree (floating-point, finite, at least one leaf).
        optimizer: any ``optax.GradientTransformation`` (jaxml's or optax's), or an ``optax.MultiSteps``. Its
            ``update`` receives ``value=`` (the batch loss), ``grad=`` and ``value_fn=`` (θ ↦ the batch loss), so
            ``optax.contrib.reduce_on_plateau``, Polyak step sizes and ``optax.lbfgs`` work; others ignore them.
        data: the training set, a pytree of arrays with a shared leading axis N (usually ``(x, y)``).
        key: the run's PRNG key (batch order and per-step keys): an int seed, a typed key or a raw ``PRNGKey``
            (seed s ≡ PRNGKey(s)).
        epochs: passes over the data.
        batch_size: B; ``None`` is full-batch gradient descent (one step per epoch).
        val_data: optional held-out set, evaluated at the end of every epoch.
        metrics: a mapping ``{"name": fn(params, batch) -> scalar}`` evaluated on train and val each epoch.
        has_aux: the objective returns ``(loss, aux)`` (the table above).
        rng: the objective takes a per-step PRNG key as its last argument (the table above).
        model_state: the initial model state s (a pytree of arrays, finite where floating), or None for a
            stateless objective (the table above).
        progress: a tqdm bar; ``None`` shows it only on an interactive terminal outside CI.
        checkpoint_dir: a folder to save the state into every ``checkpoint_every`` epochs (and at the end)
            with orbax (:mod:`jaxml.checkpoint`: one step folder per saved epoch, written
            atomically). A checkpoint of *this* run is resumed, bit-identically (a finished one returned as saved;
            one of fewer epochs extended); any other is refused with a ``ValueError`` naming the step folder and
            each differing field of its fingerprint (parameter tree and initial values; optimizer state; data;
            key; B; the traced program of one step and of the metrics, constants included), as is a checkpoint
            that fails its checksum. The folder is locked while the run trains: a second run on it is refused
            at once (:class:`jaxml.io.DirectoryInUse`); a folder that cannot be written fails before training.
            None: no checkpoints.
        checkpoint_every: K, the epochs between checkpoints (None: after each compiled chunk of epochs and at
            the end).
        checkpoint_keep: how many checkpoints to keep (the latest; None keeps all).
        checkpoint_best: a history entry (``"val_loss"``, minimized) or ``(entry, "min" | "max")``: keep the
            ``checkpoint_keep`` best checkpoints by it, and the latest.
        callback: ``callback(epoch, state)``, called with a :class:`TrainState` after every ``callback_every``
            epochs and after the last — the way to watch a run, independent of checkpoints.
        callback_every: the epochs between callbacks. Without it ``callback`` is called after each compiled
            chunk of epochs (every ``checkpoint_every`` epochs when that is given, an older way to get a
            per-K-epoch hook).
        mesh: train data-parallel over this ``jax.sharding.Mesh`` with one axis ``"data"`` of D devices: each
            batch is split into D shards of B/D examples (B, or N when full-batch, must be divisible by D), θ and
            the optimizer state are replicated, the gradient is all-reduced. Data are replicated onto the mesh
            unless already laid out on it. Same result as without a mesh up to float reassociation.

    Returns:
        FitResult: the final params, optimizer state, per-epoch history (arrays of shape (epochs,)),
        ``diverged_epoch`` (−1) and model state (with a mesh, params and state are replicated ``jax.Array`` s on
        its devices).

    Raises:
        DivergenceError: a non-finite loss, gradient, new θ or model state; carries the last finite state.
        TypeError: an argument of the wrong kind, named in the message (checked before training): ``objective``
            or ``callback`` not callable, ``optimizer`` not a transformation, ``params`` not floating-point,
            ``metrics`` not a mapping of names to callables, ``key`` not a key or int seed, a count (``epochs``,
            ``batch_size``, ``checkpoint_every``, ...) not an integer, a flag not a bool, ``mesh`` not a
            ``Mesh``, ``checkpoint_dir`` not a path, or an objective that returns the wrong structure for its
            flags.
        ValueError: an argument out of its domain, named in the message (checked before training): empty or
            non-finite ``data``/``val_data``/``params``/``model_state``, counts below 1, ``key`` a batch of keys,
            ``batch_size`` above N or not divisible by the mesh's ``"data"`` axis, a mesh with other axes, an
            objective or metric that does not return a scalar, labels out of range for jaxml's classification
            losses, an unrecorded ``checkpoint_best``, a ``checkpoint_dir`` that cannot be written, or a
            checkpoint there that belongs to another run, is beyond ``epochs`` or cannot be read.
        jaxml.io.DirectoryInUse: another live run holds ``checkpoint_dir``.

    Examples:
        A callback every 2 epochs (``mesh=jax.make_mesh((D,), ("data",))`` would split batches over D):

        >>> import jax, optax
        >>> from jaxml import losses, models, train
        >>> x = jax.random.normal(jax.random.PRNGKey(0), (64, 2)); y = x @ jax.numpy.array([1.0, -1.0])
        >>> model, seen = models.linear(2), []
        >>> result = train.fit(train.supervised(model.apply, losses.mse), model.init(jax.random.PRNGKey(1)),
        ...                    optax.sgd(0.1), (x, y), key=0, epochs=6, batch_size=16, callback_every=2,
        ...                    callback=lambda epoch, state: seen.append(state.epoch))
        >>> seen
        [2, 4, 6]

        Dropout: a per-step key, off when evaluating:

        >>> def objective(params, batch, key):
        ...     x, y = batch
        ...     if key is not None:
        ...         x = x * jax.random.bernoulli(key, 0.9, x.shape) / 0.9
        ...     return losses.mse(model.apply(params, x), y)
        >>> result = train.fit(objective, model.init(1), optax.sgd(0.1), (x, y), key=0, epochs=3, batch_size=16,
        ...                    rng=True, val_data=(x, y))
        >>> sorted(result.history)
        ['train_loss', 'val_loss']
    """
    optimizer = _as_transformation(optimizer)
    stateful = model_state is not None
    setup = _prepare(
        objective, data, val_data, metrics, epochs=epochs, batch_size=batch_size, progress=progress, mesh=mesh,
        sweep=False, has_aux=has_aux, rng=rng, stateful=stateful,
    )  # fmt: skip
    for name, every in (("checkpoint_every", checkpoint_every), ("callback_every", callback_every)):
        if every is not None:
            _checks.positive_int(every, name)
    if callback is not None:
        _checks.callable_(callback, "callback", "a function callback(epoch, state)")
    _checks.parameters(params)
    if stateful:
        _check_model_state(model_state)
    _check_outputs(setup, params, model_state, data, val_data)
    _check_data(setup.objective, params, data, val_data)
    setup = _with_aux_names(setup, params, model_state, data)
    best, keep = _check_best(checkpoint_best, checkpoint_keep, setup)
    raw_key = _checks.raw_key(key, "key")
    opt_state = _init_state(optimizer, params)
    state = _initial_state(params, opt_state, model_state, setup.names, setup.epochs)

    def train(state: _Carry, save: Callable[[int, _Carry], None] | None) -> tuple:
        return _train(
            setup, state, (raw_key, None), data, val_data, optimizer=optimizer, is_factory=False, sweep=False,
            save=save, checkpoint_every=checkpoint_every, callback=callback, callback_every=callback_every,
        )  # fmt: skip

    if checkpoint_dir is None:
        state, history = train(state, None)
    else:
        with _locked(checkpoint_dir):
            state, save, close = _checkpointing(
                checkpoint_dir, setup, state, optimizer=optimizer, raw_key=raw_key, data=data, val_data=val_data,
                keep=keep, best=best,
            )  # fmt: skip
            try:
                state, history = train(state, save)
            finally:
                close()
    if int(state.diverged_epoch) >= 0:
        e = int(state.diverged_epoch)
        raise DivergenceError(
            e, int(state.diverged_step), state.params, state.opt_state, {k: v[: e + 1] for k, v in history.items()},
            state.model_state,
        )  # fmt: skip
    return FitResult(state.params, state.opt_state, history, np.array(-1), state.model_state)


@contextlib.contextmanager
def _locked(checkpoint_dir: Any) -> Any:
    """Hold the checkpoint folder's writer lock (process 0 of a multi-process run holds it). An ``OSError`` taking
    it (the path is a file, a read-only folder) becomes a ``ValueError`` naming ``checkpoint_dir``, before
    training; another live writer raises :class:`jaxml.io.DirectoryInUse`."""
    if not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(f"checkpoint_dir must be a path, got {type(checkpoint_dir).__name__}")
    if jax.process_index() != 0:
        yield
        return
    lock = io.exclusive(checkpoint_dir, "checkpoint_dir")
    try:
        lock.__enter__()
    except OSError as err:  # io.DirectoryInUse (a second writer) is not an OSError: it propagates as it is
        raise ValueError(
            f"checkpoint_dir {os.fspath(checkpoint_dir)!r} cannot be written: {err.strerror or err} "
            "(it must be a folder this process can create and write)"
        ) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def fit_sweep(
    objective: Objective,
    params: PyTree,
    optimizer: optax.GradientTransformation | Callable[[Array], optax.GradientTransformation],
    data: PyTree,
    *,
    keys: Array,
    epochs: int,
    batch_size: int | None = None,
    learning_rates: Array | None = None,
    val_data: PyTree | None = None,
    metrics: Mapping[str, Metric] | None = None,
    progress: bool | None = None,
    mesh: Mesh | None = None,
    data_per_run: bool = False,
    has_aux: bool = False,
    rng: bool = False,
    model_state: PyTree | None = None,
) -> FitResult:
    """Train N models in one compiled program (``jax.vmap`` of :func:`fit`'s core): a sweep over seeds or η.

    ``params`` carries a leading axis N (e.g. ``jax.vmap(model.init)(init_keys)``) and ``keys`` gives each run
    its batch order: typed keys (N,), raw keys (N, 2) or N int seeds. With ``learning_rates`` (N,), finite and
    ≥ 0, ``optimizer`` is a factory ``η -> transformation`` called with a traced η; otherwise the same
    transformation serves every run. Run i equals ``fit(objective, params[i], optimizer(η_i), data,
    key=keys[i], ...)`` up to float reassociation.

    With ``data_per_run=True`` each run trains on data of its own: every array in ``data`` (and in ``val_data``)
    carries a leading axis N before its example axis, e.g. replicate i's own random split, all of equal size
    (np.stack them); run i then equals ``fit(objective, params[i], optimizer, data[i], key=keys[i],
    val_data=val_data[i], ...)`` (``data[i]``: slice i of every array), metrics included.

    ``has_aux``, ``rng`` and ``model_state`` widen the objective's contract as in :func:`fit`; a model state
    carries a leading run axis N like ``params``, and each run's per-step keys derive from its own key.

    A run that diverges freezes at its last finite state; ``diverged_epoch[i]`` says where (−1: never), and
    its later history is NaN. No error is raised: sweeps are for finding where η breaks.

    With ``mesh`` (axes among ``"sweep"`` and ``"data"``) the N runs are split over ``"sweep"`` (N divisible
    by its size; params, state, keys and η sharded along their run axis) and each run's batches over ``"data"``
    (B divisible by its size), e.g. ``jax.make_mesh((2, 2), ("sweep", "data"))`` on 4 devices. The results'
    run axis then stays sharded over ``"sweep"``. Per-run data is not supported with a mesh.

    Args:
        objective: the loss of a batch, as in :func:`fit`.
        params: the initial parameters of the N runs: a pytree whose floating-point leaves carry a leading
            axis N.
        optimizer: an ``optax.GradientTransformation`` (or ``optax.MultiSteps``) shared by every run; with
            ``learning_rates``, a factory ``η -> transformation`` (e.g. ``optax.sgd``).
        data: the training set, a pytree of arrays with a shared example axis (leading, or second after the
            run axis N with ``data_per_run``).
        keys: each run's PRNG key: typed keys (N,), raw keys (N, 2) or N int seeds; N is the number of runs.
        epochs: passes over the data.
        batch_size: B; ``None`` is full-batch gradient descent.
        learning_rates: η of each run, shape (N,), finite and ≥ 0; None: ``optimizer`` is a transformation.
        val_data: optional held-out set (with a run axis N with ``data_per_run``).
        metrics: a mapping ``{"name": fn(params, batch) -> scalar}`` evaluated on train and val each epoch.
        progress: a tqdm bar; ``None`` shows it only on an interactive terminal outside CI.
        mesh: a ``jax.sharding.Mesh`` with axes among ``"sweep"`` and ``"data"``, or None.
        data_per_run: every run trains on its own slice of ``data`` and ``val_data`` (not with a mesh).
        has_aux: the objective returns ``(loss, aux)``, as in :func:`fit`.
        rng: the objective takes a per-step PRNG key as its last argument, as in :func:`fit`.
        model_state: the initial model states, leaves with a leading run axis N, or None (as in :func:`fit`).

    Returns:
        FitResult: every field with a leading run axis N: the final params, optimizer states, history (arrays of
        shape (N, epochs)), ``diverged_epoch`` (N,) (−1 where a run stayed finite) and model states.

    Raises:
        TypeError: an argument of the wrong kind (as in :func:`fit`): also ``keys`` that are not keys or int
            seeds, ``data_per_run`` not a bool, ``optimizer`` not a transformation without ``learning_rates`` or
            not a callable factory with them, or ``learning_rates`` not real.
        ValueError: an argument out of its domain (as in :func:`fit`): also ``params``, ``model_state`` or
            (with ``data_per_run``) data without a leading axis of N runs, ``learning_rates`` not of shape (N,),
            negative or not finite, N not divisible by the mesh's ``"sweep"`` axis, or ``data_per_run`` with a
            mesh.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxml import losses, models, train
        >>> x = jnp.linspace(-1, 1, 64)[:, None]; y = 3 * x[:, 0]
        >>> model = models.linear(1)
        >>> lrs = jnp.array([0.01, 0.1, 0.5])
        >>> res = train.fit_sweep(train.supervised(model.apply, losses.mse),
        ...                       jax.vmap(model.init)(jax.random.split(jax.random.PRNGKey(0), 3)),
        ...                       optax.sgd, (x, y), keys=jax.random.split(jax.random.PRNGKey(1), 3),
        ...                       epochs=20, learning_rates=lrs)
        >>> res.history["train_loss"].shape
        (3, 20)
    """
    keys = _checks.keys(keys, "keys")
    n_runs = int(keys.shape[0])
    if not isinstance(data_per_run, (bool, np.bool_)):
        raise TypeError(f"data_per_run must be True or False, got {data_per_run!r}")
    shared, shared_val = data, val_data  # what one run sees: data[0] with data_per_run (checked on it)
    if data_per_run:
        if mesh is not None:
            raise ValueError("per-run data (data_per_run=True) is not supported with a mesh: pass mesh=None")
        shared = _run_slice(data, "data", n_runs)
        shared_val = None if val_data is None else _run_slice(val_data, "val_data", n_runs)
    setup = _prepare(
        objective, shared, shared_val, metrics, epochs=epochs, batch_size=batch_size, progress=progress, mesh=mesh,
        sweep=True, has_aux=has_aux, rng=rng, stateful=model_state is not None,
    )  # fmt: skip
    _checks.parameters(params, lead=n_runs)
    if model_state is not None:
        _check_model_state(model_state, lead=n_runs)
    if setup.mesh is not None:
        sharding.check_divisible(n_runs, "the number of runs N (len(keys))", setup.mesh, SWEEP_AXIS)
    if learning_rates is None:
        optimizer = _as_transformation(optimizer, "without learning_rates, optimizer")
        make: Callable[[Any], optax.GradientTransformation] = lambda _: optimizer
        hparams = jnp.zeros((n_runs,))
    else:
        if isinstance(optimizer, optax.GradientTransformation) or not callable(optimizer):
            raise TypeError("with learning_rates, optimizer must be a callable: learning_rate -> transformation")
        make = optimizer
        hparams = jnp.asarray(_checks.real(np.asarray(learning_rates), "learning_rates", low=0.0))
        if hparams.shape != (n_runs,):
            raise ValueError(f"learning_rates must have shape ({n_runs},) (one per key), got {hparams.shape}")
    one_run = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(np.shape(a)[1:], jnp.result_type(a)), params)
    one_state = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(np.shape(a)[1:], jnp.result_type(a)), model_state
    )  # fmt: skip
    _check_outputs(setup, one_run, one_state, shared, shared_val)
    _check_data(setup.objective, one_run, data, val_data, per_run=bool(data_per_run))
    setup = _with_aux_names(setup, one_run, one_state, shared)

    opt_state = jax.vmap(lambda p, h: make(h).init(p))(params, hparams)
    state = _initial_state(params, opt_state, model_state, setup.names, setup.epochs, lead=(n_runs,))
    state, history = _train(
        setup, state, (keys, hparams), data, val_data, optimizer=optimizer, is_factory=learning_rates is not None,
        sweep=True, data_per_run=bool(data_per_run),
    )  # fmt: skip
    diverged = sharding.to_host(state.diverged_epoch)
    return FitResult(state.params, state.opt_state, history, diverged, state.model_state)
