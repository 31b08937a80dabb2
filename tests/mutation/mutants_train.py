"""Planted bugs in the trainer's edges, its checkpoints, the mesh helpers and the models' example handling
(issue 25). Most are caught by ``tests/test_train_edges.py``; a few by the older file that already pins
that promise (named per mutant)."""

from __future__ import annotations

from mutant import M

EDGES = ["tests/test_train_edges.py"]
CONTRACT = "tests/test_train_contract.py::"
MODELS = ["tests/test_models.py"]

MUTATIONS = [
    # ---- jaxml/train.py
    M(
        "E1 optimizer.update called without θ",
        "jaxml/train.py",
        [
            (
                "grads, opt_state, params, value=loss, grad=grads, value_fn=value_fn\n",
                "grads, opt_state, value=loss, grad=grads, value_fn=value_fn\n",
            )
        ],
        EDGES,
    ),
    M(
        "E2 supervised ignores l2_mask",
        "jaxml/train.py",
        [("value = value + l2 * l2_penalty(params, l2_mask)", "value = value + l2 * l2_penalty(params)")],
        EDGES,
    ),
    M(
        "E3 supervised penalty λ/2·Σθ²",
        "jaxml/train.py",
        [
            (
                "value = value + l2 * l2_penalty(params, l2_mask)",
                "value = value + 0.5 * l2 * l2_penalty(params, l2_mask)",
            )
        ],
        EDGES,
    ),
    M(
        "E4 batch_size = N refused",
        "jaxml/train.py",
        [
            (
                'elif _checks.positive_int(batch_size, "batch_size") > n_train:',
                'elif _checks.positive_int(batch_size, "batch_size") >= n_train:',
            )
        ],
        EDGES,
    ),
    M(
        "E5 one batch short when B divides N",
        "jaxml/train.py",
        [("    steps = n_train // batch_size\n", "    steps = (n_train - 1) // batch_size\n")],
        EDGES,
    ),
    M(
        "E6 divergence in epoch 0 not raised",
        "jaxml/train.py",
        [("if int(state.diverged_epoch) >= 0:", "if int(state.diverged_epoch) > 0:")],
        EDGES,
    ),
    M(
        "E7 DivergenceError history without the diverged epoch",
        "jaxml/train.py",
        [("{k: v[: e + 1] for k, v in history.items()}", "{k: v[:e] for k, v in history.items()}")],
        EDGES,
    ),
    M(
        "E8 step keys drawn from the batch order's stream",
        "jaxml/train.py",
        [
            (
                "return jax.random.split(jax.random.fold_in(epoch_key, 1), steps)",
                "return jax.random.split(epoch_key, steps)",
            )
        ],
        [CONTRACT + "test_dropout_with_per_step_keys_equals_a_hand_loop_and_follows_the_key"],
    ),
    M(
        "E9 aux mean of a diverged epoch kept",
        "jaxml/train.py",
        [
            (
                'record[f"train_{name}"] = jnp.where(diverged, jnp.nan, jnp.mean(values))',
                'record[f"train_{name}"] = jnp.mean(values)',
            )
        ],
        EDGES,
    ),
    M(
        "E10 history cut to a shorter run from its end",
        "jaxml/train.py",
        [("            return a[..., :length]", "            return a[..., -length:]")],
        EDGES,
    ),
    M(
        "E11 labels of val_data not checked",
        "jaxml/train.py",
        [
            (
                '    for name, split in (("data", data), ("val_data", val_data)):',
                '    for name, split in (("data", data),):',
            )
        ],
        [CONTRACT + "test_labels_out_of_range_are_named_before_training"],
    ),
    M(
        "E12 history buffers one power of two short",
        "jaxml/train.py",
        [("    return 1 << (int(epochs) - 1).bit_length()", "    return 1 << int(epochs).bit_length() - 1")],
        EDGES,
    ),
    # ---- jaxml/checkpoint.py
    M(
        "E13 data hash without the sum of each leaf",
        "jaxml/checkpoint.py",
        [("        digest.update(repr(float(np.real(total))).encode())\n", "")],
        EDGES,
    ),
    M(
        "E14 differences skips fields present on one side only",
        "jaxml/checkpoint.py",
        [("for field in sorted(set(saved) | set(now)):", "for field in sorted(set(saved) & set(now)):")],
        EDGES,
    ),
    M(
        "E15 value fingerprint of the first leaf only",
        "jaxml/checkpoint.py",
        [
            (
                "    for leaf in leaves:\n        value = np.asarray(to_host(leaf))",
                "    for leaf in leaves[:1]:\n        value = np.asarray(to_host(leaf))",
            )
        ],
        EDGES,
    ),
    M(
        "E16 steps sorted as text",
        "jaxml/checkpoint.py",
        [
            (
                'return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit() and (p / "run").is_dir())',
                "return [int(s) for s in sorted(p.name for p in directory.iterdir() if p.name.isdigit() and "
                '(p / "run").is_dir())]',
            )
        ],
        EDGES,
    ),
    M(
        "E17 steps lists folders without a run record",
        "jaxml/checkpoint.py",
        [('if p.name.isdigit() and (p / "run").is_dir())', "if p.name.isdigit())")],
        EDGES,
    ),
    M(
        "E18 restored leaves not checked for dtype",
        "jaxml/checkpoint.py",
        [("if np.shape(w) != np.shape(g) or _dtype(w) != _dtype(g):", "if np.shape(w) != np.shape(g):")],
        EDGES,
    ),
    M(
        "E19 a checkpoint one epoch beyond the run accepted",
        "jaxml/checkpoint.py",
        [("        if step > epochs:", "        if step > epochs + 1:")],
        EDGES,
    ),
    # ---- jaxml/sharding.py
    M(
        "E20 divisibility as at least one per device",
        "jaxml/sharding.py",
        [("    if count % size:", "    if count < size:")],
        EDGES,
    ),
    M(
        "E21 sweep state replicated, not split over sweep",
        "jaxml/sharding.py",
        [
            (
                "return NamedSharding(mesh, P(SWEEP_AXIS) if sweep and SWEEP_AXIS in mesh.axis_names else P())",
                "return NamedSharding(mesh, P())",
            )
        ],
        EDGES,
    ),
    M(
        "E22 check_mesh keeps Explicit axes",
        "jaxml/sharding.py",
        [
            (
                "    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))",
                "    return mesh",
            )
        ],
        EDGES,
    ),
    # ---- jaxml/models.py (one example or a batch): pinned by tests/test_models.py
    M(
        "E23 output squeezed by its width, not by out_features=None",
        "jaxml/models.py",
        [("    y = y[:, 0] if out_features is None else y", "    y = y[:, 0] if y.shape[1] == 1 else y")],
        MODELS,
    ),
    M(
        "E24 a 1-feature model reads a 1-D x as one example",
        "jaxml/models.py",
        [("        return x.reshape(-1, 1), x.ndim == 0", "        return x.reshape(-1, 1), x.ndim <= 1")],
        MODELS,
    ),
    M(
        "E25 conditional_linear keeps the batch axis of one example",
        "jaxml/models.py",
        [("        return y[0] if one else y", "        return y")],
        MODELS,
    ),
    M(
        "E26 a 1-D x of any length taken as one example",
        "jaxml/models.py",
        [("    if x.ndim == 1 and x.shape[0] == in_features:", "    if x.ndim == 1:")],
        MODELS,
    ),
]
