"""Checkpoints that know their run: the file format, the atomic write, and the fingerprint checked on resume.

A checkpoint is one flax-msgpack file holding the training state and a *fingerprint* of the run that wrote it:
a mapping field → text describing everything that decides the trajectory θ₀ → θ_T:

====================  ==============================================================================================
field                 what it records
====================  ==============================================================================================
``params``            the parameter tree's structure, and each leaf's path, dtype and shape
``opt_state``         the optimizer state's structure (its NamedTuple types), and each leaf's dtype and shape
``hyper_parameters``  the optimizer's pytree leaves in order: the values of a :mod:`jaxml.optim` optimizer's
                      η, β, λ, ε; a leaf that is not a number (a schedule, optax's closures) by its type only
``data``              each training leaf's dtype and shape
``data_content``      a hash of a strided sample of ≤ 64 rows of each leaf and of the leaf's sum
``val_data``,         the same for the validation set ("none" without one)
``val_content``
``key``               the raw PRNG key data of the batch order
``batch_size``,       B, the number of epochs, and the names of the recorded history entries
``epochs``,
``history``
``step_program``      a hash of the text of ``jax.make_jaxpr`` of one training step (objective, gradient,
                      optimizer update) and of the values of the constants it closes over
``metrics_program``   the same for the metrics evaluated each epoch
====================  ==============================================================================================

:func:`load` refuses a checkpoint whose fingerprint differs in any field, with a ``ValueError`` that names the
file, lists each differing field (saved vs now) and says how to start afresh; a truncated, corrupt or foreign
file gets the same kind of message. What is detected: another architecture, tree, dtype, optimizer (its type
or a hyper-parameter such as η, which a step's program holds as a literal or a constant), other data of the
same shapes, another key, batch size or number of epochs, another objective (another loss, λ, model). A
hyper-parameter shows twice: by value in ``hyper_parameters`` (when the optimizer is a pytree of numbers) and as
a literal of ``step_program`` (which traces one step with the optimizer as a constant).

What is not: anything that leaves the traced step's text and constant values unchanged. A Python global the
objective reads is seen only through what tracing makes of it (a literal or a constant: caught); one that acts
outside the traced step (in a callback, in code that builds the data) is not. Data that differ only in rows the
strided sample skips while every leaf's sum stays the same (e.g. two unsampled rows swapped, which changes the
batches) pass; so do the mesh (a run on D devices follows the same trajectory up to float reassociation) and
the JAX version unless it changes the program text (then resume refuses, to be safe).

Example:
    >>> from jaxml import checkpoint
    >>> fp = {"epochs": "3", "batch_size": "8"}
    >>> checkpoint.differences(fp, {"epochs": "5", "batch_size": "8"})
    ['epochs (the number of epochs): saved 3, now 5']
"""

from __future__ import annotations

import hashlib
import json
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
from flax import serialization

from jaxml.io import atomic_write_bytes
from jaxml.sharding import to_host

PyTree = Any

CHECKPOINT_FILE = "checkpoint.msgpack"
FORMAT = "jaxml-checkpoint"
VERSION = 2
SAMPLE_ROWS = 64  # rows of each data leaf hashed (strided over the whole set)

__all__ = [
    "CHECKPOINT_FILE",
    "FIELDS",
    "FORMAT",
    "VERSION",
    "data_fingerprint",
    "differences",
    "hyper_fingerprint",
    "load",
    "program_fingerprint",
    "resume",
    "run_fingerprint",
    "save",
    "tree_fingerprint",
]

FIELDS = {
    "params": "the parameter tree, shapes and dtypes",
    "opt_state": "the optimizer state's structure",
    "hyper_parameters": "the optimizer's hyper-parameters η, β, λ, ε, in tree order",
    "data": "the training data's shapes",
    "data_content": "the training data's values",
    "val_data": "the validation data's shapes",
    "val_content": "the validation data's values",
    "key": "the PRNG key of the batch order",
    "batch_size": "the batch size",
    "epochs": "the number of epochs",
    "history": "the recorded history entries",
    "step_program": "the traced training step: objective, model, optimizer and hyper-parameters such as η",
    "metrics_program": "the traced metrics",
}
_START_AFRESH = "To start afresh, delete the file or pass another checkpoint_dir."


def tree_fingerprint(tree: PyTree) -> str:
    """The tree's structure and each leaf's path, dtype and shape, as text (no values)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    shapes = ", ".join(f"{jax.tree_util.keystr(p)}: {_dtype(x)}{list(np.shape(x))}" for p, x in leaves)
    return f"{jax.tree_util.tree_structure(tree)} {{{shapes}}}"


def data_fingerprint(data: PyTree) -> tuple[str, str]:
    """``(shapes, content)``: the data's :func:`tree_fingerprint` and a cheap hash of its values.

    The content hash reads at most :data:`SAMPLE_ROWS` rows of each leaf (every ⌈N/64⌉-th) and the sum of
    each whole leaf (on the host in float64), so a data set of the same length with other values is told apart
    without hashing all of it. Arrays spread over several processes are gathered (every process must call it).
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


def program_fingerprint(fn: Callable[..., Any], *args: Any) -> str:
    """A hash of ``jax.make_jaxpr(fn)(*args)``: its text (memory addresses removed) and its constants' values.

    Hyper-parameters given as Python numbers appear in the text as literals; those given as arrays are
    constants, hashed by value. The arguments may be arrays or ``jax.ShapeDtypeStruct`` s (only shapes count).
    """
    closed = jax.make_jaxpr(fn)(*args)
    digest = hashlib.sha256(re.sub(r"0x[0-9a-fA-F]+", "0x?", str(closed.jaxpr)).encode())
    for const in closed.consts:
        value = np.asarray(to_host(const))
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()[:16]


def run_fingerprint(
    *,
    objective: Callable[[PyTree, PyTree], jax.Array],
    optimizer: optax.GradientTransformation,
    metrics: Mapping[str, Callable[[PyTree, PyTree], jax.Array]],
    params: PyTree,
    opt_state: PyTree,
    data: PyTree,
    val_data: PyTree | None,
    key: jax.Array,
    batch_size: int,
    epochs: int,
    history: list[str],
) -> dict[str, str]:
    """The fingerprint of a :func:`jaxml.train.fit` run (the fields in the module docstring)."""
    struct = lambda a, n=None: jax.ShapeDtypeStruct(np.shape(a) if n is None else (n, *np.shape(a)[1:]), _dtype(a))
    p, s = jax.tree_util.tree_map(struct, params), jax.tree_util.tree_map(struct, opt_state)
    batch = jax.tree_util.tree_map(lambda a: struct(a, batch_size), data)

    def step(params: PyTree, state: PyTree, batch: PyTree) -> tuple:
        loss, grads = jax.value_and_grad(objective)(params, batch)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    measure = lambda params, split: {name: fn(params, split) for name, fn in metrics.items()}
    data_shapes, data_content = data_fingerprint(data)
    val_shapes, val_content = data_fingerprint(val_data)
    return {
        "params": tree_fingerprint(params),
        "opt_state": tree_fingerprint(opt_state),
        "hyper_parameters": hyper_fingerprint(optimizer),
        "data": data_shapes,
        "data_content": data_content,
        "val_data": val_shapes,
        "val_content": val_content,
        "key": " ".join(f"{int(k):08x}" for k in np.ravel(to_host(key))),
        "batch_size": str(batch_size),
        "epochs": str(epochs),
        "history": ", ".join(history),
        "step_program": program_fingerprint(step, p, s, batch),
        "metrics_program": program_fingerprint(measure, p, jax.tree_util.tree_map(struct, data)) if metrics else "none",
    }


def differences(saved: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """``"field: saved A, now B"`` for every field that differs (or is missing on one side)."""
    out = []
    for field in sorted(set(saved) | set(now)):
        a, b = saved.get(field, "(absent)"), now.get(field, "(absent)")
        if a != b:
            a, b = _around_difference(a, b)
            meaning = f" ({FIELDS[field]})" if field in FIELDS else ""
            out.append(f"{field}{meaning}: saved {a}, now {b}")
    return out


def save(directory: str | os.PathLike, state: PyTree, fingerprint: Mapping[str, str]) -> Path:
    """Write ``state`` and ``fingerprint`` to ``directory/CHECKPOINT_FILE`` atomically (process 0 only)."""
    path = Path(directory) / CHECKPOINT_FILE
    host_state = jax.tree_util.tree_map(np.asarray, to_host(state))
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "fingerprint": json.dumps(dict(fingerprint), sort_keys=True),
        "state": serialization.to_state_dict(host_state),
    }
    if jax.process_index() == 0:  # with several processes the (replicated) state is written once
        atomic_write_bytes(path, serialization.msgpack_serialize(payload))
    return path


def load(directory: str | os.PathLike, template: PyTree, fingerprint: Mapping[str, str]) -> PyTree | None:
    """The state saved in ``directory`` (shaped like ``template``), or None when there is no checkpoint.

    Raises:
        ValueError: the file is not a readable jaxml checkpoint (truncated, corrupt, foreign, another format
            version), or it belongs to a different run: the message names the file, every differing field
            of the fingerprint, and how to start afresh.
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
    except Exception as err:  # msgpack raises several unrelated types for torn or foreign bytes
        raise _unreadable(
            path, f"it is truncated or not a msgpack file (the decoder raised {type(err).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise _unreadable(path, "it is not a jaxml checkpoint (no format marker)")
    if payload.get("version") != VERSION:
        raise _unreadable(path, f"it has format version {payload.get('version')!r}, this jaxml reads {VERSION}")
    try:
        saved = json.loads(payload["fingerprint"])
        state_dict = payload["state"]
    except (KeyError, TypeError, ValueError) as err:
        raise _unreadable(path, f"its fingerprint is missing or damaged ({err})") from None
    changed = differences(saved, fingerprint)
    if changed:
        listed = "\n  ".join(changed)
        raise ValueError(f"checkpoint {path} belongs to a different run; what differs:\n  {listed}\n{_START_AFRESH}")
    try:
        state = serialization.from_state_dict(template, state_dict)
    except Exception as err:  # flax reports a foreign tree as KeyError/ValueError with field names
        raise _unreadable(path, f"its state does not fit this run ({type(err).__name__}: {err})") from None
    for (p, want), got in zip(jax.tree_util.tree_flatten_with_path(template)[0], jax.tree_util.tree_leaves(state)):
        if np.shape(want) != np.shape(got) or _dtype(want) != _dtype(got):
            raise _unreadable(
                path,
                f"its state leaf {jax.tree_util.keystr(p)} is {_dtype(got)}{list(np.shape(got))}, "
                f"this run needs {_dtype(want)}{list(np.shape(want))}",
            )
    return state


def resume(directory: str | os.PathLike, state: PyTree, **run: Any) -> tuple[PyTree, Callable[[PyTree], Path]]:
    """``(start, save)``: the state saved in ``directory`` by this run (else ``state``), and ``save(state)``
    writing checkpoints of this run there. ``run`` are :func:`run_fingerprint`'s arguments."""
    fingerprint = run_fingerprint(**run)
    restored = load(directory, state, fingerprint)
    return (state if restored is None else restored), lambda new: save(directory, new, fingerprint)


def _unreadable(path: Path, why: str) -> ValueError:
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
