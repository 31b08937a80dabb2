"""Planted bugs at the numerical edges: optim, losses, data, curvature, generative, classification, surfaces.

Each is caught by ``tests/test_numerics_edges.py`` (oracles: numpy loops, optax, closed forms, scikit-learn,
``jax.grad``), which runs in about 20 s. Ids U1…U34.
"""

from __future__ import annotations

from mutant import M

EDGES = ["tests/test_numerics_edges.py"]
T, C, A, S = (
    "jaxml/optim/transforms.py",
    "jaxml/optim/combine.py",
    "jaxml/optim/alias.py",
    "jaxml/optim/schedules.py",
)

MUTATIONS = [
    # ---- optim
    M(
        "U1 EMA first moment weights swapped (β ↔ 1−β)",
        T,
        [("_mix(m, g, b1, 1 - b1), state.mu, updates)", "_mix(m, g, 1 - b1, b1), state.mu, updates)")],
        EDGES,
    ),
    M(
        "U2 divide's 0/0 guard tests the denominator (n/0 = n)",
        C,
        [("return n / jnp.where(n == 0, jnp.ones_like(d), d)", "return n / jnp.where(d == 0, jnp.ones_like(d), d)")],
        EDGES,
    ),
    M(
        "U3 RMSProp keeps 1−α of the old average",
        T,
        [("return jnp.where(count == 1, 0.0, alpha), take", "return jnp.where(count == 1, 0.0, 1 - alpha), take")],
        EDGES,
    ),
    M(
        "U4 Adagrad keeps the sum of squares, not the mean",
        T,
        [("    take = 1.0 / count\n    return 1 - take, take", "    take = 1.0 / count\n    return 1.0, 1.0")],
        EDGES,
    ),
    M(
        "U5 eps_in_sqrt adds ε outside the root",
        T,
        [
            (
                "return jax.tree.map(lambda s: jnp.sqrt(s + _cast(eps, s)), sigma_sq)",
                "return jax.tree.map(lambda s: jnp.sqrt(s) + _cast(eps, s), sigma_sq)",
            )
        ],
        EDGES,
    ),
    M(
        "U6 fan_out passes the old states as earlier_states (AdaBelief reads μᵗ⁻¹)",
        C,
        [('"earlier_states": tuple(states)}', '"earlier_states": state.inner_states[: len(states)]}')],
        EDGES,
    ),
    M(
        "U7 heavy ball weights swapped (1·m + λ·u)",
        T,
        [("keep, take = beta, 1.0\n", "keep, take = 1.0, beta\n")],
        EDGES,
    ),
    M(
        "U8 nadam without the Nesterov look-ahead",
        A,
        [
            (
                "divide(first_moment(b1, nesterov=True, mu_dtype=mu_dtype), rms_ema(b2, eps, bias_correction=True)),",
                "divide(first_moment(b1, mu_dtype=mu_dtype), rms_ema(b2, eps, bias_correction=True)),",
            )
        ],
        EDGES,
    ),
    M(
        "U9 amsgrad without the running max",
        A,
        [
            (
                "bias_correction=True, eps_in_sqrt=True), running_max(), add_eps(eps))\n",
                "bias_correction=True, eps_in_sqrt=True), add_eps(eps))\n",
            )
        ],
        EDGES,
    ),
    M(
        "U10 step decay rounds t/s up",
        S,
        [("factor ** jnp.floor(_t(count) / steps)", "factor ** jnp.ceil(_t(count) / steps)")],
        EDGES,
    ),
    M(
        "U11 linear_warmup does not shift the schedule by W",
        S,
        [("after = jnp.asarray(schedule(jnp.maximum(t - warmup, 0))", "after = jnp.asarray(schedule(t)")],
        EDGES,
    ),
    # ---- losses
    M(
        "U12 0-1 loss: a score of exactly 0 is class 1",
        "jaxml/losses.py",
        [("predicted = (scores > 0).astype(labels.dtype)", "predicted = (scores >= 0).astype(labels.dtype)")],
        EDGES,
    ),
    M(
        "U13 probability rows under jit: only sums above 1 refused",
        "jaxml/losses.py",
        [
            (
                "return in_range & (jnp.abs(jnp.sum(p, axis=-1) - 1) <= atol)",
                "return in_range & (jnp.sum(p, axis=-1) - 1 <= atol)",
            )
        ],
        EDGES,
    ),
    M(
        "U14 0-1 loss under jit accepts any label ≥ 0",
        "jaxml/losses.py",
        [("valid = (labels == 0) | (labels == 1)", "valid = labels >= 0")],
        EDGES,
    ),
    M(
        "U15 cross-entropy clips at 0, not eps",
        "jaxml/losses.py",
        [("jnp.log(jnp.clip(probs, eps, 1.0))", "jnp.log(jnp.clip(probs, 0.0, 1.0))")],
        EDGES,
    ),
    # ---- data
    M(
        "U16 noisy_regression_1d draws the noise from x's key",
        "jaxml/data/__init__.py",
        [("jax.random.normal(ke, (n,))", "jax.random.normal(kx, (n,))")],
        EDGES,
    ),
    M(
        "U17 noise scaled by its variance",
        "jaxml/data/__init__.py",
        [("y = y + noise * np.asarray(", "y = y + noise**2 * np.asarray(")],
        EDGES,
    ),
    M(
        "U18 xor corners out of order (labels no longer XOR)",
        "jaxml/data/__init__.py",
        [
            (
                "corners = np.array([[0, 0], [1, 1], [0, 1], [1, 0]]",
                "corners = np.array([[0, 0], [0, 1], [1, 1], [1, 0]]",
            )
        ],
        EDGES,
    ),
    M(
        "U19 standardizer divides by the sample std (ddof=1)",
        "jaxml/data/__init__.py",
        [("scaled.std(axis=0) * scale", "scaled.std(axis=0, ddof=1) * scale")],
        EDGES,
    ),
    # ---- curvature
    M(
        "U20 minimum_ratio counts λ = tolerance as positive",
        "jaxml/curvature/critical.py",
        [("return float(np.mean(lam > tolerance))", "return float(np.mean(lam >= tolerance))")],
        EDGES,
    ),
    M(
        "U21 classify_eigenvalues: λ_min = tol is a minimum",
        "jaxml/curvature/critical.py",
        [("    if lam_min > tolerance:\n", "    if lam_min >= tolerance:\n")],
        EDGES,
    ),
    M(
        "U22 escape direction's sign convention flipped",
        "jaxml/curvature/critical.py",
        [
            (
                "jnp.where(u_min[jnp.argmax(jnp.abs(u_min))] < 0, -1.0, 1.0)",
                "jnp.where(u_min[jnp.argmax(jnp.abs(u_min))] > 0, -1.0, 1.0)",
            )
        ],
        EDGES,
    ),
    M(
        "U23 standard error with ddof=0",
        "jaxml/curvature/spectra.py",
        [("float(samples.std(ddof=1) / math.sqrt(n))", "float(samples.std() / math.sqrt(n))")],
        EDGES,
    ),
    M(
        "U24 Hutchinson's stopping rule with ddof=0",
        "jaxml/curvature/spectra.py",
        [("(samples - mean) ** 2, 0.0)) / jnp.maximum(n - 1, 1)", "(samples - mean) ** 2, 0.0)) / jnp.maximum(n, 1)")],
        EDGES,
    ),
    M(
        "U25 SLQ trace without the factor P",
        "jaxml/curvature/spectra.py",
        [("_mean_stderr(p * np.sum(weights * nodes, axis=1))", "_mean_stderr(np.sum(weights * nodes, axis=1))")],
        EDGES,
    ),
    M(
        "U26 quadrature stops one Lanczos step short",
        "jaxml/curvature/_lanczos.py",
        [("    while lz.j < min(num_steps, p):\n", "    while lz.j < min(num_steps, p) - 1:\n")],
        EDGES,
    ),
    M(
        "U27 dense Hessian keeps the last P rows (the padding of a partial chunk)",
        "jaxml/curvature/hessian.py",
        [(".reshape(eye_chunks * chunk, p)[:p]", ".reshape(eye_chunks * chunk, p)[-p:]")],
        EDGES,
    ),
    # ---- generative
    M(
        "U28 diagonal covariance without reg",
        "jaxml/_gaussian.py",
        [("cov = scatter / counts[:, None] + reg\n", "cov = scatter / counts[:, None]\n")],
        EDGES,
    ),
    M(
        "U29 Bernoulli smoothing adds α once to the denominator",
        "jaxml/generative.py",
        [("(counts[:, None] + 2 * alpha)", "(counts[:, None] + alpha)")],
        EDGES,
    ),
    M(
        "U30 to_linear's prior ratio inverted",
        "jaxml/generative.py",
        [("jnp.log(model.priors[1] / model.priors[0])", "jnp.log(model.priors[0] / model.priors[1])")],
        EDGES,
    ),
    # ---- classification
    M(
        "U31 cross-entropy gradient: bias term with the wrong sign",
        "jaxml/classification.py",
        [("return -(x.T @ r) / x.shape[0], -jnp.mean(r)", "return -(x.T @ r) / x.shape[0], jnp.mean(r)")],
        EDGES,
    ),
    M(
        "U32 σ + square error gradient without the 2",
        "jaxml/classification.py",
        [("s = 2.0 * (f - y) * f * (1.0 - f)", "s = (f - y) * f * (1.0 - f)")],
        EDGES,
    ),
    # ---- surfaces
    M(
        "U33 trajectory records θ after the step",
        "jaxml/surfaces.py",
        [
            (
                "return (optax.apply_updates(theta, updates), state), (theta, loss, g, state)",
                "theta = optax.apply_updates(theta, updates)\n        return (theta, state), (theta, loss, g, state)",
            )
        ],
        EDGES,
    ),
    M(
        "U34 double well's critical points of the opposite tilt",
        "jaxml/surfaces.py",
        [("np.roots([4.0, 0.0, -4.0, DOUBLE_WELL_TILT])", "np.roots([4.0, 0.0, -4.0, -DOUBLE_WELL_TILT])")],
        EDGES,
    ),
]
