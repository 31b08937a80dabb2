"""Checkpoints that know their run, stored with orbax.

A run's checkpoints live in ``checkpoint_dir``, one orbax step folder per saved epoch (``checkpoint_dir/<epoch>/``,
written to a temporary folder and renamed when complete, so a crash or a full disk leaves the previous ones
intact). Each step folder holds three orbax items:

==========  ================================================================================================
item        content
==========  ================================================================================================
``params``  θ, the parameter pytree as the trainer holds it (what :func:`load_params` returns)
``state``   everything else the trainer needs to resume: the optimizer state s, the model state (e.g.
            batch-norm statistics, None without one), the next epoch, the divergence markers and the history
``run``     JSON: format and version, the run's *fingerprint*, a SHA-256 checksum of ``params`` and
            ``state``, the number of epochs the run was asked for, the length of its history buffers
==========  ================================================================================================

The folder also holds ``.jaxml.lock``: while a run trains, it holds an ``flock`` on it
(:func:`jaxml.io.exclusive`), so a second run given the same ``checkpoint_dir`` is refused at once instead of
overwriting the first run's checkpoints. The OS releases the lock when a process dies, even by SIGKILL.

The fingerprint is a mapping field → text describing everything that decides the trajectory θ₀ → θ_T:

=====================  =============================================================================================
field                  what it records
=====================  =============================================================================================
``params``             the parameter tree's structure, and each leaf's path, dtype and shape
``params_content``     a hash of the initial parameters' values (another ``init`` seed is another run)
``model_state``        the same two for the initial model state (``none`` without one)
``opt_state``          the optimizer state's structure (its NamedTuple types), and each leaf's dtype and shape
``hyper_parameters``   the optimizer's pytree leaves in order: the values of a :mod:`jaxml.optim` optimizer's
                       η, β, λ, ε; a leaf that is not a number (a schedule, optax's closures) by its type only
``data``               each training leaf's dtype and shape
``data_content``       a hash of a strided sample of ≤ 64 rows of each leaf and of the leaf's sum
``val_data``,          the same for the validation set ("none" without one)
``val_content``
``key``                the raw PRNG key data of the batch order (and of the per-step keys)
``batch_size``,        B and the names of the recorded history entries
``history``
``step_program``       a hash of the text of ``jax.make_jaxpr`` of one training step (objective, gradient,
                       optimizer update) and of the values of the constants it closes over
``metrics_program``    the same for the metrics evaluated each epoch
=====================  =============================================================================================

Resuming (:func:`resume`) refuses a checkpoint whose fingerprint differs in any field, with a ``ValueError``
that names the step folder, lists each differing field (saved vs now) and says how to start afresh; a
checkpoint whose bytes no longer match its checksum (a flipped bit, a torn copy), or that orbax cannot read, gets
the same kind of message. The number of epochs is not part of the fingerprint: the batch order of epoch e
depends only on the key and e, so a run asked for more epochs than a saved one *extends* it (the result equals
the longer run from scratch); one asked for fewer epochs than a checkpoint already holds is refused.

What is detected: another architecture, tree, dtype, initial value, optimizer (its type or a hyper-parameter such
as η, which a step's program holds as a literal or a constant), other data of the same shapes, another key or
batch size, another objective (another loss, λ, model). What is not: anything that leaves the traced step's text
and constant values unchanged. A Python global the objective reads is seen only through what tracing makes of it
(a literal or a constant: caught); one that acts outside the traced step (in a callback, in code that builds the
data) is not. Data that differ only in rows the strided sample skips while every leaf's sum stays the same pass;
so do the mesh (a run on D devices follows the same trajectory up to float reassociation) and the JAX version
unless it changes the program text (then resume refuses, to be safe).

Reading a checkpoint needs no trainer: :func:`load_params` returns θ of the latest (or a given) step, and
:func:`steps` lists the kept steps. orbax restores a pytree without a template as nested dicts and lists (a
NamedTuple comes back as a dict of its fields); pass ``template=`` (e.g. ``model.init(0)``) to get the exact
structure back.

Example:
    >>> import tempfile, jax, optax
    >>> from jaxml import checkpoint, losses, models, train
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (32, 2)); y = x @ jax.numpy.array([1.0, -1.0])
    >>> model, folder = models.linear(2), tempfile.mkdtemp()
    >>> result = train.fit(train.supervised(model.apply, losses.mse), model.init(0), optax.sgd(0.1), (x, y),
    ...                    key=0, epochs=4, checkpoint_dir=folder, checkpoint_every=2, checkpoint_keep=2)
    >>> checkpoint.steps(folder)
    [2, 4]
    >>> params = checkpoint.load_params(folder, template=model.init(0))
    >>> bool(jax.numpy.allclose(params["w"], result.params["w"]))
    True
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml.sharding import to_host

PyTree = Any

#: The format marker every checkpoint's ``run`` record carries.
FORMAT = "jaxml-checkpoint"
#: The checkpoint format version this jaxml writes and reads (others are refused).
VERSION = 3
#: Rows of each data leaf hashed by :func:`data_fingerprint` (strided over the whole set).
SAMPLE_ROWS = 64
#: The single-file format of jaxml ≤ 0.1 (version 2), no longer read.
LEGACY_FILE = "checkpoint.msgpack"

__all__ = [
    "FIELDS",
    "FORMAT",
    "VERSION",
    "checksum",
    "data_fingerprint",
    "differences",
    "hyper_fingerprint",
    "load_params",
    "program_fingerprint",
    "resume",
    "run_fingerprint",
    "steps",
    "tree_fingerprint",
    "value_fingerprint",
]

#: The fingerprint's fields, field → what it records (the words :func:`differences` adds to each difference).
FIELDS = {
    "params": "the parameter tree, shapes and dtypes",
    "params_content": "the initial parameters' values",
    "model_state": "the initial model state's tree, shapes and dtypes",
    "model_state_content": "the initial model state's values",
    "opt_state": "the optimizer state's structure",
    "hyper_parameters": "the optimizer's hyper-parameters η, β, λ, ε, in tree order",
    "data": "the training data's shapes",
    "data_content": "the training data's values",
    "val_data": "the validation data's shapes",
    "val_content": "the validation data's values",
    "key": "the PRNG key of the batch order",
    "batch_size": "the batch size",
    "history": "the recorded history entries",
    "step_program": "the traced training step: objective, model, optimizer and hyper-parameters such as η",
    "metrics_program": "the traced metrics",
}
_START_AFRESH = "To start afresh, delete the folder or pass another checkpoint_dir."


def tree_fingerprint(tree: PyTree) -> str:
    """The tree's structure and each leaf's path, dtype and shape, as text (no values).

    Args:
        tree: any pytree (θ, an optimizer state, a data set).

    Returns:
        str: the tree structure followed by ``{path: dtype[shape], ...}`` for every leaf.
    """
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    shapes = ", ".join(f"{jax.tree_util.keystr(p)}: {_dtype(x)}{list(np.shape(x))}" for p, x in leaves)
    return f"{jax.tree_util.tree_structure(tree)} {{{shapes}}}"


def data_fingerprint(data: PyTree) -> tuple[str, str]:
    """``(shapes, content)``: the data's :func:`tree_fingerprint` and a cheap hash of its values.

    The content hash reads at most :data:`SAMPLE_ROWS` rows of each leaf (every ⌈N/64⌉-th) and the sum of
    each whole leaf (on the host in float64), so a data set of the same length with other values is told apart
    without hashing all of it. Arrays spread over several processes are gathered (every process must call it).

    Args:
        data: a pytree of arrays sharing a leading example axis (a training or validation set), or None.

    Returns:
        tuple[str, str]: ``(shapes, content)``: the :func:`tree_fingerprint` and 16 hex digits of SHA-256;
        ``("none", "none")`` when ``data`` is None.
    """
    if data is None:
        return "none", "none"
    digest = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(data):
        n = np.shape(leaf)[0] if np.ndim(leaf) else 1
        stride = max(1, -(-n // SAMPLE_ROWS))
        sample = to_host(leaf[::stride] if np.ndim(leaf) else leaf)
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:  # spread over processes: sum there
            total = to_host(jnp.sum(leaf, dtype=jnp.result_type(float)))
        else:  # on the host in float64, so numpy and jax copies of the same data agree
            total = np.sum(np.asarray(leaf), dtype=np.complex128 if np.iscomplexobj(leaf) else np.float64)
        digest.update(np.ascontiguousarray(sample).tobytes())
        digest.update(repr(float(np.real(total))).encode())
    return tree_fingerprint(data), digest.hexdigest()[:16]


def hyper_fingerprint(optimizer: optax.GradientTransformation) -> str:
    """The optimizer's pytree leaves as text, in tree order: the numbers of a :mod:`jaxml.optim` optimizer (its
    hyper-parameters); a leaf that is not a number (a schedule, the closures of optax's own) by its type only.

    Args:
        optimizer: an ``optax.GradientTransformation`` (a :mod:`jaxml.optim` one carries η, β, λ, ε as leaves).

    Returns:
        str: the leaves joined by ``", "`` (``"none"`` for an optimizer without leaves).

    Example:
        >>> from jaxml import optim
        >>> hyper_fingerprint(optim.momentum(0.1, 0.9)), hyper_fingerprint(optim.sgd(lambda t: 0.1))
        ('0.1, 0.9', '<function>')
    """

    def show(leaf: Any) -> str:
        if isinstance(leaf, (numbers.Number, np.ndarray, np.generic, jax.Array)):
            return repr(np.asarray(to_host(leaf)).tolist())
        return f"<{type(leaf).__name__}>"

    return ", ".join(map(show, jax.tree_util.tree_leaves(optimizer))) or "none"


def _hash_leaf(digest: Any, leaf: Any) -> Any:
    """Feed one array to ``digest``: its dtype and shape, then its bytes (C order, on the host)."""
    value = np.asarray(to_host(leaf))
    digest.update(f"{value.dtype}{value.shape}".encode())
    digest.update(np.ascontiguousarray(value).tobytes())
    return digest


def program_fingerprint(fn: Callable[..., Any], *args: Any) -> str:
    """A hash of ``jax.make_jaxpr(fn)(*args)``: its text (memory addresses removed) and its constants' values.

    Hyper-parameters given as Python numbers appear in the text as literals; those given as arrays are
    constants, hashed by value. The arguments may be arrays or ``jax.ShapeDtypeStruct`` s (only shapes count).

    Args:
        fn: the function to trace (e.g. one training step).
        *args: its arguments: arrays, pytrees of arrays or ``jax.ShapeDtypeStruct`` s.

    Returns:
        str: 16 hex digits of SHA-256.
    """
    closed = jax.make_jaxpr(fn)(*args)
    digest = hashlib.sha256(re.sub(r"0x[0-9a-fA-F]+", "0x?", str(closed.jaxpr)).encode())
    for const in closed.consts:
        _hash_leaf(digest, const)
    return digest.hexdigest()[:16]


def value_fingerprint(tree: PyTree) -> str:
    """A hash of every leaf's dtype, shape and bytes (a parameter pytree's *values*; ``none`` for no leaves).

    Args:
        tree: a pytree of arrays (e.g. θ₀), or None.

    Returns:
        str: 16 hex digits of SHA-256 over the leaves in tree order, or ``"none"`` when ``tree`` has no leaves.

    Example:
        >>> import numpy as np
        >>> value_fingerprint({"w": np.zeros(2)}) == value_fingerprint({"w": np.zeros(2)})
        True
        >>> value_fingerprint({"w": np.zeros(2)}) == value_fingerprint({"w": np.ones(2)})
        False
    """
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        return "none"
    digest = hashlib.sha256()
    for leaf in leaves:
        _hash_leaf(digest, leaf)
    return digest.hexdigest()[:16]


def run_fingerprint(
    *,
    step: Callable[..., Any],
    step_args: tuple,
    measure: Callable[..., Any] | None,
    measure_args: tuple,
    optimizer: optax.GradientTransformation,
    params: PyTree,
    model_state: PyTree,
    opt_state: PyTree,
    data: PyTree,
    val_data: PyTree | None,
    key: jax.Array,
    batch_size: int,
    history: list[str],
) -> dict[str, str]:
    """The fingerprint of a :func:`jaxml.train.fit` run (the fields in the module docstring).

    ``step(*step_args)`` is one training step and ``measure(*measure_args)`` the metrics of one epoch, as the
    trainer traces them; the arguments may be ``jax.ShapeDtypeStruct`` s (only their shapes count).

    Args:
        step: one training step, as the trainer traces it (objective, gradient, optimizer update).
        step_args: the arguments of ``step``.
        measure: the metrics of one epoch, or None without metrics.
        measure_args: the arguments of ``measure``.
        optimizer: the optimizer (its numeric leaves are the hyper-parameters).
        params: θ₀, the initial parameters.
        model_state: the initial model state, or None.
        opt_state: the initial optimizer state s₀.
        data: the training data.
        val_data: the validation data, or None.
        key: the PRNG key of the batch order.
        batch_size: B.
        history: the names of the recorded history entries.

    Returns:
        dict[str, str]: field → text, one entry for each field of :data:`FIELDS`.
    """
    data_shapes, data_content = data_fingerprint(data)
    val_shapes, val_content = data_fingerprint(val_data)
    return {
        "params": tree_fingerprint(params),
        "params_content": value_fingerprint(params),
        "model_state": tree_fingerprint(model_state) if model_state is not None else "none",
        "model_state_content": value_fingerprint(model_state),
        "opt_state": tree_fingerprint(opt_state),
        "hyper_parameters": hyper_fingerprint(optimizer),
        "data": data_shapes,
        "data_content": data_content,
        "val_data": val_shapes,
        "val_content": val_content,
        "key": " ".join(f"{int(k):08x}" for k in np.ravel(to_host(key))),
        "batch_size": str(batch_size),
        "history": ", ".join(history),
        "step_program": program_fingerprint(step, *step_args),
        "metrics_program": program_fingerprint(measure, *measure_args) if measure is not None else "none",
    }


def differences(saved: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """``"field: saved A, now B"`` for every field that differs (or is missing on one side).

    Long values are cut to a window around where they first differ; a field of :data:`FIELDS` is followed by
    what it records.

    Args:
        saved: the fingerprint stored in a checkpoint.
        now: this run's fingerprint (:func:`run_fingerprint`).

    Returns:
        list[str]: one line per differing field, sorted by field name; empty when the fingerprints agree.
    """
    out = []
    for field in sorted(set(saved) | set(now)):
        a, b = saved.get(field, "(absent)"), now.get(field, "(absent)")
        if a != b:
            a, b = _around_difference(a, b)
            meaning = f" ({FIELDS[field]})" if field in FIELDS else ""
            out.append(f"{field}{meaning}: saved {a}, now {b}")
    return out


def checksum(tree: PyTree) -> str:
    """SHA-256 of the multiset of leaves (each leaf's dtype, shape and bytes): what a restored state is checked
    against. It does not depend on the containers, so a tree restored without a template (a NamedTuple as a
    dict, a tuple as a list) has the checksum it was saved with; the structure is checked separately.

    Args:
        tree: a pytree of arrays.

    Returns:
        str: 64 hex digits of SHA-256.

    Example:
        >>> import numpy as np
        >>> a = checksum({"w": np.array([1.0, 2.0])})
        >>> a == checksum([np.array([1.0, 2.0])]), a == checksum({"w": np.array([1.0, 2.0000001])})
        (True, False)
    """
    digests = [_hash_leaf(hashlib.sha256(), leaf).hexdigest() for leaf in jax.tree_util.tree_leaves(tree)]
    return hashlib.sha256(" ".join(sorted(digests)).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Storage on orbax


def _orbax() -> Any:
    import orbax.checkpoint as ocp  # imported on first use: importing orbax is slow, and most runs never save

    return ocp


def _manager(directory: Path, keep: int | None = None, best: tuple[str, str] | None = None, *, read_only: bool = False):
    """An orbax ``CheckpointManager`` for ``directory``: synchronous saves, keeping the ``keep`` latest steps (all
    with None) and, with ``best=(entry, "min"|"max")``, also the ``keep`` best by that history entry."""
    ocp = _orbax()
    policies = [ocp.checkpoint_managers.LatestN(n=1 if best is not None else keep)]
    if best is not None:
        name, mode = best
        policies.append(
            ocp.checkpoint_managers.BestN(get_metric_fn=lambda m: m[name], reverse=mode == "min", n=keep)
        )
    options = ocp.CheckpointManagerOptions(
        enable_async_checkpointing=False,
        create=not read_only,
        read_only=read_only,
        save_interval_steps=0 if read_only else 1,  # what orbax sets for a reader anyway, without its warning
        cleanup_tmp_directories=not read_only,  # what a killed save left behind
        preservation_policy=ocp.checkpoint_managers.AnyPreservationPolicy(policies),
    )
    if not read_only:
        return ocp.CheckpointManager(directory.resolve(), options=options)
    # a reader is read-only by design: orbax's warning that the folder "is read only" says nothing to the user
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        return ocp.CheckpointManager(directory.resolve(), options=options)
    finally:
        absl.setLevel(level)


def steps(directory: str | os.PathLike) -> list[int]:
    """The epochs at which ``directory`` holds a complete checkpoint, in increasing order ([] when none).

    Args:
        directory: a ``checkpoint_dir``; a missing folder holds no checkpoint.

    Returns:
        list[int]: the epochs, ascending.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit() and (p / "run").is_dir())


def _host(tree: PyTree) -> PyTree:
    """Every leaf as a NumPy array (0-d for scalars: orbax stores arrays, not NumPy scalars)."""
    return jax.tree_util.tree_map(np.asarray, to_host(tree))


def _save(
    manager: Any, epoch: int, params: PyTree, state: PyTree, run: Mapping[str, Any], metrics: Mapping[str, float]
) -> None:
    ocp = _orbax()
    params, state = _host(params), _host(state)
    run = {**run, "checksum": {"params": checksum(params), "state": checksum(state)}}
    manager.save(
        epoch,
        args=ocp.args.Composite(
            params=ocp.args.PyTreeSave(params), state=ocp.args.PyTreeSave(state), run=ocp.args.JsonSave(run)
        ),
        metrics=dict(metrics) or None,
        force=True,
    )
    manager.wait_until_finished()


def _restore_item(manager: Any, step: int, name: str, template: PyTree | None) -> Any:
    ocp = _orbax()
    if name == "run":
        args = ocp.args.JsonRestore()
    elif template is None:
        args = ocp.args.PyTreeRestore()
    else:
        host = _host(template)
        restore_args = jax.tree_util.tree_map(lambda a: ocp.RestoreArgs(restore_type=np.ndarray), host)
        args = ocp.args.PyTreeRestore(item=host, restore_args=restore_args)
    return manager.restore(step, args=ocp.args.Composite(**{name: args}))[name]


def _read_run(manager: Any, path: Path, step: int) -> dict[str, Any]:
    try:
        run = _restore_item(manager, step, "run", None)
    except Exception as err:  # orbax and JSON raise many types for a damaged file
        raise _unreadable(path, f"its run record cannot be read ({type(err).__name__})") from None
    if not isinstance(run, dict) or run.get("format") != FORMAT:
        raise _unreadable(path, "it is not a jaxml checkpoint (no format marker)")
    if run.get("version") != VERSION:
        raise _unreadable(path, f"it has format version {run.get('version')!r}, this jaxml reads {VERSION}")
    sums = run.get("checksum")
    if not isinstance(run.get("fingerprint"), dict) or not isinstance(sums, dict) or set(sums) != {"params", "state"}:
        raise _unreadable(path, "its fingerprint or checksum is missing")
    return run


def resume(
    directory: str | os.PathLike,
    params: PyTree,
    state: PyTree,
    fingerprint: Mapping[str, str],
    *,
    epochs: int,
    keep: int | None = 1,
    best: tuple[str, str] | None = None,
    resize: Callable[[PyTree, int], PyTree] | None = None,
) -> tuple[PyTree, PyTree, Callable[..., None], Callable[[], None]]:
    """``(params, state, save, close)``: the latest checkpoint of this run in ``directory`` (else the given
    ``params`` and ``state``), ``save(epoch, params, state, metrics)`` writing this run's checkpoint of that
    epoch, and ``close()`` releasing orbax's manager (call it when the run ends, however it ends).

    Args:
        directory: the checkpoint folder (created if missing).
        params: θ₀, the parameters before epoch 0; also the template the saved θ is restored into (same tree,
            shapes and dtypes).
        state: the rest of the trainer's state before epoch 0; also the template the saved state is restored
            into.
        fingerprint: this run's :func:`run_fingerprint`.
        epochs: the number of epochs this run is asked for; a checkpoint beyond it is refused.
        keep: how many of the latest checkpoints to keep (None: all).
        best: ``(history entry, "min" | "max")``: keep the ``keep`` best checkpoints by that entry, and the latest.
        resize: ``resize(state, length)`` gives ``state`` history buffers of ``length`` entries (None: this
            run's own): the template is resized to the saved length (a save's ``history_length=`` record) before
            restoring, the restored state back to this run's (a run extended to more epochs has longer buffers).

    Returns:
        tuple: ``(params, state, save, close)``: θ and the state to start from (the latest checkpoint's, else
        the given ones); ``save(epoch, params, state, metrics=None, **record)``, which writes this run's
        checkpoint of ``epoch`` (``record`` adds entries to its ``run`` record, e.g. ``history_length=``); and
        ``close()``, which releases orbax's manager.

    Raises:
        ValueError: the latest checkpoint belongs to another run (every differing fingerprint field is listed),
            is beyond ``epochs``, or cannot be read (orbax fails, the checksum does not match, another format):
            the message names the step folder and how to start afresh.
    """
    directory = Path(directory)
    manager = _manager(directory, keep, best)
    try:
        start_params, start_state = _latest(manager, directory, params, state, fingerprint, epochs, resize)
    except BaseException:
        manager.close()
        raise

    def save(epoch: int, params: PyTree, state: PyTree, metrics: Mapping[str, float] | None = None, **record: Any):
        record = {"format": FORMAT, "version": VERSION, "fingerprint": dict(fingerprint), "epochs": int(epochs),
                  **record}  # fmt: skip
        _save(manager, int(epoch), params, state, record, _finite_metrics(metrics or {}, best))

    return start_params, start_state, save, manager.close


def _latest(  # fmt: skip
    manager: Any, directory: Path, params: PyTree, state: PyTree, fingerprint: Mapping[str, str], epochs: int,
    resize: Callable[[PyTree, int | None], PyTree] | None,
) -> tuple[PyTree, PyTree]:
    """The latest checkpoint of this run (see :func:`resume`), else ``(params, state)``."""
    legacy = directory / LEGACY_FILE
    if legacy.exists():
        raise _unreadable(legacy, "it is a checkpoint of jaxml's older single-file format (version 2)")
    kept = steps(directory)
    start_params, start_state = params, state
    if kept:
        step = kept[-1]
        path = directory / str(step)
        run = _read_run(manager, path, step)
        changed = differences(run["fingerprint"], fingerprint)
        if changed:
            listed = "\n  ".join(changed)
            raise ValueError(
                f"checkpoint {path} belongs to a different run; what differs:\n  {listed}\n{_START_AFRESH}"
            )
        if step > epochs:
            raise ValueError(
                f"checkpoint {path} holds epoch {step} of this run, beyond epochs={epochs}: ask for epochs ≥ {step} "
                f"to extend or return it, or start afresh. {_START_AFRESH}"
            )
        saved_state = resize(state, int(run.get("history_length", 0))) if resize is not None else state
        try:
            start_params = _restore_item(manager, step, "params", params)
            start_state = _restore_item(manager, step, "state", saved_state)
        except Exception as err:  # orbax and tensorstore raise many types for damaged or foreign data
            raise _unreadable(path, f"its state cannot be read ({type(err).__name__}: {_first_line(err)})") from None
        for name, tree in (("params", start_params), ("state", start_state)):
            if checksum(tree) != run["checksum"][name]:
                raise _unreadable(path, f"its {name} do not match their checksum (a damaged or tampered file)")
        for name, want, got in (("params", params, start_params), ("state", saved_state, start_state)):
            _check_like(path, name, want, got)
        if resize is not None:
            start_state = resize(start_state, None)
    return start_params, start_state


def _finite_metrics(metrics: Mapping[str, float], best: tuple[str, str] | None) -> dict[str, float]:
    """The metric orbax ranks by, with NaN/inf (a diverged epoch) ranked worst."""
    if best is None:
        return {}
    name, mode = best
    value = float(metrics.get(name, math.nan))
    return {name: value if math.isfinite(value) else (math.inf if mode == "min" else -math.inf)}


def _check_like(path: Path, name: str, want: PyTree, got: PyTree) -> None:
    if jax.tree_util.tree_structure(want) != jax.tree_util.tree_structure(got):
        raise _unreadable(path, f"its {name} tree does not fit this run")
    for (p, w), g in zip(jax.tree_util.tree_flatten_with_path(want)[0], jax.tree_util.tree_leaves(got)):
        if np.shape(w) != np.shape(g) or _dtype(w) != _dtype(g):
            raise _unreadable(
                path,
                f"its {name} leaf {jax.tree_util.keystr(p)} is {_dtype(g)}{list(np.shape(g))}, "
                f"this run needs {_dtype(w)}{list(np.shape(w))}",
            )


def load_params(directory: str | os.PathLike, step: int | None = None, *, template: PyTree | None = None) -> PyTree:
    """θ saved in ``directory`` at ``step`` (default: the latest), without a trainer, checked against its checksum.

    Args:
        directory: a ``checkpoint_dir`` that :func:`jaxml.train.fit` wrote.
        step: the epoch of the checkpoint (:func:`steps` lists them); None for the latest.
        template: a pytree like the parameters (e.g. ``model.init(0)``) to restore into: the same structure
            (NamedTuples, tuples, list) and dtypes. Without it orbax returns nested dicts and lists of NumPy arrays.

    Returns:
        PyTree: θ, the parameter pytree (NumPy arrays), in ``template``'s structure when given.

    Raises:
        FileNotFoundError: no checkpoint in ``directory`` (or none at ``step``).
        TypeError: ``step`` is not an integer (e.g. ``"2"``, ``2.0`` or ``True``).
        ValueError: the checkpoint cannot be read, fails its checksum, or does not fit ``template``.
    """
    directory = Path(directory)
    if step is not None:
        step = _checks_step(step)
    kept = steps(directory)
    if not kept or (step is not None and step not in kept):
        where = "no checkpoint" if not kept else f"no checkpoint at step {step} (kept: {kept})"
        raise FileNotFoundError(f"{directory} holds {where}")
    step = kept[-1] if step is None else step
    path = directory / str(step)
    manager = _manager(directory, read_only=True)
    try:
        run = _read_run(manager, path, step)
        params = _host(_restore_item(manager, step, "params", template))
    except ValueError:
        raise
    except Exception as err:
        raise _unreadable(path, f"its parameters cannot be read ({type(err).__name__}: {_first_line(err)})") from None
    finally:
        manager.close()
    if template is not None:
        _check_like(path, "params", template, params)
    if checksum(params) != run["checksum"]["params"]:
        raise _unreadable(path, "its params do not match their checksum (a damaged or tampered file)")
    return params


def _checks_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, (numbers.Integral, np.integer)):
        raise TypeError(f"step must be an int epoch, got {type(step).__name__}")
    return int(step)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else ""

def _unreadable(path: Path, why: str) -> ValueError:
    """A checkpoint that cannot be resumed: the path, why, and how to start afresh."""
    return ValueError(f"checkpoint {path} cannot be resumed: {why}. {_START_AFRESH}")


def _dtype(x: Any) -> str:
    return str(jnp.result_type(x)) if not hasattr(x, "dtype") else str(x.dtype)


def _around_difference(a: str, b: str, width: int = 120) -> tuple[str, str]:
    """Both texts, cut to a window around where they first differ when they are long."""
    if max(len(a), len(b)) <= width:
        return a, b
    k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, k - width // 3)
    cut = lambda t: ("…" if start else "") + t[start : start + width] + ("…" if len(t) > start + width else "")
    return cut(a), cut(b)
