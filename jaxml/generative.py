"""Generative classifiers: Gaussian class-conditionals, naive Bayes, and the shared-Σ → (w, b) map.

A generative classifier models how each class produces its data, P(x|Cₖ), and a prior P(Cₖ), and classifies by
Bayes' rule (lecture notation, K classes):

    P(Cₖ|x) = P(x|Cₖ) P(Cₖ) / Σⱼ P(x|Cⱼ) P(Cⱼ),    P(Cₖ) = Nₖ / N.

With Gaussian class-conditionals P(x|Cₖ) = N(x; μᵏ, Σᵏ) the maximum-likelihood estimates are the class mean
μᵏ* = (1/Nₖ) Σₙ xⁿ and the **biased** covariance Σᵏ* = (1/Nₖ) Σₙ (xⁿ − μᵏ*)(xⁿ − μᵏ*)ᵀ (1/Nₖ, not 1/(Nₖ−1)).
:func:`fit` offers three covariance structures:

* ``"full"``: one Σᵏ per class (quadratic boundaries; scikit-learn's QDA, whose releases before 1.8 divide by
  Nₖ−1).
* ``"shared"``: one Σ = Σₖ (Nₖ/N) Σᵏ for all classes. The quadratic terms cancel and the posterior becomes
  linear in x: for two classes P(C₁|x) = σ(wᵀx + b) (:func:`to_linear`); scikit-learn's
  ``LinearDiscriminantAnalysis(solver="lsqr")``.
* ``"diagonal"``: independent features, Σᵏ = diag(σᵏ²) — Gaussian naive Bayes (scikit-learn's GaussianNB
  with ``var_smoothing=0``).

:func:`fit_bernoulli` is naive Bayes for binary features, P(x|Cₖ) = Πᵢ pₖᵢ^xᵢ (1−pₖᵢ)^(1−xᵢ).

Everything is computed in log space — log-determinants from Cholesky factors, posteriors by ``logsumexp`` — so
posteriors stay exact in hundreds of dimensions where the densities themselves under- or overflow. Use float64
(``with jax.enable_x64(True): ...``) where exactness matters.

Validation (through :mod:`jaxml._checks`: labels are 0…K−1, every class has enough examples, weights ≥ 0,
``reg`` ≥ 0, no covariance is singular, no NaN or inf in x) runs on concrete inputs and raises ``ValueError``
naming the argument. NaN/inf in x is caught for free in :func:`fit` from the fitted estimates (a non-finite
value reaches its class mean), and by one pass over x in the ``predict*`` functions. Inside ``jax.jit`` /
``jax.vmap`` (pass ``num_classes``) values cannot be inspected: a label outside 0…K−1, a non-integer label
or a negative weight makes every fitted estimate NaN rather than silently dropping the example, and
:func:`predict` returns −1 for a row whose posterior is NaN.

Example:
    >>> import jax, numpy as np
    >>> from jaxml import generative
    >>> x = np.array([[0.0, 0.1], [0.2, -0.3], [-0.1, 0.4], [2.0, 2.1], [2.3, 1.7], [1.8, 2.2]])
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> with jax.enable_x64(True):
    ...     model = generative.fit(x, y, covariance="shared")
    ...     p = generative.predict_proba(model, x)
    ...     w, b = generative.to_linear(model)
    ...     print(p.shape, np.allclose(p.sum(1), 1.0), np.allclose(p[:, 1], jax.nn.sigmoid(x @ w + b)))
    (6, 2) True True
    >>> generative.fit(x, np.array([0, 0, 0, 1, 1, 5]), num_classes=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y must lie in 0 … 1, got 5; map your classes to 0…K−1 first (...) or num_classes is 2
    >>> fit_jit = jax.jit(generative.fit, static_argnames="num_classes")
    >>> with jax.enable_x64(True):
    ...     bad = fit_jit(x, np.array([0, 0, 0, 1, 1, 5]), num_classes=2)
    >>> bool(np.isnan(bad.means).all())
    True
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve

from jaxml import _blocks, _checks, _gaussian
from jaxml._gaussian import BernoulliModel, GaussianModel, covariance_kind

Array = jax.Array
PyTree = Any
CovarianceKind = Literal["full", "shared", "diagonal"]
_KINDS = ("full", "shared", "diagonal")

__all__ = [
    "BernoulliModel",
    "GaussianModel",
    "SingularCovarianceError",
    "covariance_kind",
    "covariance_matrices",
    "fit",
    "fit_bernoulli",
    "log_likelihood",
    "predict",
    "predict_log_proba",
    "predict_proba",
    "to_linear",
]


SingularCovarianceError = _checks.SingularCovarianceError
"""A class covariance is singular (a constant feature, or features that are linear combinations); a ValueError."""

#: half-precision features are fitted in float32 — a covariance needs more than their 8–11 significant bits.
_MIN_FLOAT = jnp.float32


# ----------------------------------------------------------------------------------------------- helpers


def _to_device(x: Any) -> Any:
    """Host data as it is (streamed block by block by :mod:`jaxml._blocks`), anything else unchanged."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return _blocks.host_view(x)
    return x


def _as_arrays(x: Array, y: Array) -> tuple[Any, Any]:
    """Float features. NumPy inputs stay on the host (converted by NumPy, so no eager JAX op has to compile):
    the fit streams them to the device in row blocks instead of copying the whole array."""
    if not isinstance(x, jax.Array):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):  # integers, bools and ml_dtypes' bfloat16
            x = x.astype(jnp.result_type(float))
        elif x.dtype.itemsize < np.dtype(_MIN_FLOAT).itemsize:
            x = x.astype(_MIN_FLOAT)
        x = _blocks.host_view(x)
    elif not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    elif x.dtype.itemsize < np.dtype(_MIN_FLOAT).itemsize:
        x = x.astype(_MIN_FLOAT)  # bfloat16 / float16: no einsum in half precision, and too few bits for Σ
    if not isinstance(y, jax.Array):
        y = np.asarray(y)
    return x, y


def covariance_matrices(model: GaussianModel) -> Array:
    """The K dense (D, D) covariance matrices Σᵏ, whatever the structure (shared is repeated K times).

    Args:
        model: a fitted :class:`GaussianModel` of any covariance structure.

    Returns:
        A (K, D, D) array: Σᵏ per class (the shared Σ repeated K times; a diagonal model's variances on the
        diagonals).

    Raises:
        TypeError: if ``model`` is not a :class:`GaussianModel`.

    Example:
        >>> covariance_matrices(GaussianModel(jnp.zeros((2, 2)), jnp.ones((2, 2)), jnp.ones(2) / 2)).shape
        (2, 2, 2)
    """
    if not isinstance(model, GaussianModel):
        raise TypeError(f"model must be a GaussianModel, got {type(model).__name__}")
    k = model.means.shape[0]
    cov = model.covariance
    if cov.ndim == 2:
        return jax.vmap(jnp.diag)(cov)
    return jnp.broadcast_to(cov, (k, *cov.shape[1:]))


# ----------------------------------------------------------------------------------------------- fitting


def _fit_core(
    x: Array, y: Array, num_classes: int, covariance: str, reg: float | Array, weight: Array | None = None
) -> GaussianModel:
    """The jittable maximum-likelihood fit: statistics of row blocks, then pooled.

    Values are not validated (the caller does that for concrete inputs); an invalid label, weight or ``reg``
    makes every estimate NaN instead of being dropped silently.
    """
    n, d = x.shape
    valid = jnp.all(_checks.labels_valid(y, num_classes)) & (jnp.asarray(reg) >= 0)
    if weight is not None:
        valid = valid & jnp.all(jnp.asarray(weight) >= 0)
    if not jnp.issubdtype(y.dtype, jnp.integer) and y.dtype != bool:
        valid = valid & jnp.all(y == jnp.round(y))
    y = y.astype(jnp.int32)
    block = _blocks.block_rows(n, d * x.dtype.itemsize)
    weight = None if weight is None else jnp.asarray(weight, x.dtype)
    stats = functools.partial(_gaussian.block_moments, num_classes=num_classes, covariance=covariance)
    moments = _gaussian.merge_moments(_blocks.map_blocks(stats, (x, y, weight), block), covariance, jnp)
    model = _gaussian.finish_fit(moments, jnp.asarray(reg, x.dtype), covariance, jnp)
    return GaussianModel(*(_checks.nan_unless(a, valid) for a in model))



_fit_jit = jax.jit(_fit_core, static_argnames=("num_classes", "covariance"))
#: the streamed fit's one program — per (block shape, K, kind), whatever N.
_block_moments_jit = jax.jit(_gaussian.block_moments, static_argnames=("num_classes", "covariance"))


def _fit_any(
    x: Any, y: Any, num_classes: int, covariance: str, reg: float | Array, weight: Any = None
) -> GaussianModel:
    """Host data is streamed in row blocks through one compiled program (:func:`jaxml._gaussian.block_moments`:
    no whole-array copy, no program per N), and the few (K, D, D) block statistics are pooled on the host;
    device or traced data goes through the one-program core."""
    host = _blocks.is_host(x) and _blocks.is_host(y) and (weight is None or _blocks.is_host(weight))
    if not (host and _checks.all_concrete(reg)):
        return _fit_jit(x, y, num_classes, covariance, reg, weight)
    x = _blocks.host_view(x)
    y = np.asarray(y).astype(np.int32, copy=False)
    weight = None if weight is None else np.asarray(weight).astype(x.dtype, copy=False)
    n, d = x.shape
    block = _blocks.block_rows(n, d * x.dtype.itemsize)
    stats = functools.partial(_block_moments_jit, num_classes=num_classes, covariance=covariance)
    blocks = _blocks.map_host_blocks(stats, (x, y, weight), block)
    # A NaN or inf in x reaches the estimates (that is how it is detected, after fit: _checks.fitted_gaussian names it);
    # NumPy's RuntimeWarning on the way would only add noise before that error.
    with np.errstate(invalid="ignore", over="ignore"):
        moments = _gaussian.merge_moments(blocks, covariance, np)
        model = _gaussian.finish_fit(moments, np.asarray(reg, x.dtype), covariance, np)
    return GaussianModel(*(jax.device_put(np.asarray(a, x.dtype)) for a in model))


def fit(
    x: Array,
    y: Array,
    covariance: CovarianceKind = "full",
    reg: float | Array = 0.0,
    *,
    num_classes: int | None = None,
    sample_weight: Array | None = None,
) -> GaussianModel:
    """Maximum-likelihood Gaussian class-conditionals and class-count priors.

    μᵏ = (1/Nₖ) Σ_{n∈Cₖ} xⁿ;  Σᵏ = (1/Nₖ) Σ_{n∈Cₖ} (xⁿ − μᵏ)(xⁿ − μᵏ)ᵀ + reg·I;  P(Cₖ) = Nₖ/N.
    ``"shared"``: Σ = Σₖ (Nₖ/N) Σᵏ (+ reg·I); ``"diagonal"``: only the variances (naive Bayes).

    Args:
        x: (N, D) features; half precision (float16, bfloat16) is fitted in float32, whose estimates are
            returned (a covariance needs more than 8–11 significant bits).
        y: (N,) integer labels 0…K−1.
        covariance: ``"full"``, ``"shared"`` or ``"diagonal"`` (static).
        reg: added to the diagonal of every covariance (regularises a singular Σ).
        num_classes: K; inferred from concrete ``y`` as ``max(y) + 1``. Required under ``jit``/``vmap``, where
            values cannot be checked: a label outside 0…K−1 or a negative weight makes every estimate NaN.
        sample_weight: optional (N,) weights vₙ ≥ 0: every sum above becomes a weighted sum (Nₖ = Σ vₙ over
            class k). 0/1 weights fit a subset with fixed shapes (many subsets under one ``vmap``); integer
            counts fit a bootstrap resample.

    Returns:
        A :class:`GaussianModel`.

    Raises:
        ValueError: bad shapes or labels (not 0…K−1, a class missing, a class with 1 example for a full or
            diagonal covariance without ``reg``), NaN/inf in ``x``, ``covariance`` not one of the three kinds,
            ``reg`` not a finite scalar ≥ 0, ``sample_weight`` of the wrong shape or with a negative or
            non-finite entry, ``num_classes`` missing under ``jit``/``vmap`` or not a positive integer.
        SingularCovarianceError: (a ``ValueError``) a singular covariance; the message suggests ``reg``.
        TypeError: ``x`` not real numbers, ``y`` not numeric or bool, ``sample_weight`` not real numbers,
            ``reg`` not a real number.

    Note:
        The ``predict*`` functions and :func:`to_linear` refuse (``ValueError`` naming ``model.priors`` or
        ``model.covariance`` and the class) a given model whose priors are not probabilities or whose covariance
        is not positive definite, instead of returning NaN posteriors.

    Example:
        >>> x = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.7], [3.0, 3.5], [4.0, 3.0], [3.5, 4.2]])
        >>> y = np.array([0, 0, 0, 1, 1, 1])
        >>> np.asarray(fit(x, y, "shared").means, float).round(4).tolist()
        [[0.5, 0.5667], [3.5, 3.5667]]
        >>> jitted = jax.jit(lambda x, y: fit(x, y, "full", num_classes=2))(x, y)   # the jittable core
        >>> np.allclose(jitted.covariance, fit(x, y, "full").covariance)
        True
    """
    _checks.one_of(covariance, "covariance", _KINDS)
    _checks.nonnegative_scalar(reg, "reg")
    _checks.real_dtype(x, "x")
    x, y = _as_arrays(x, y)
    _checks.features_and_labels(x, y)
    weight = None
    if sample_weight is not None:
        _checks.real_array(sample_weight, "sample_weight")
        if np.shape(sample_weight) != y.shape:
            raise ValueError(
                f"sample_weight must have shape {y.shape} (one weight per label), got {np.shape(sample_weight)}"
            )
        if _checks.all_concrete(sample_weight):
            sample_weight = np.asarray(sample_weight)
            _checks.bounded(sample_weight, "sample_weight", 0.0, np.inf)
            weight = sample_weight
    concrete = _checks.all_concrete(x, y, reg, sample_weight)
    if _checks.all_concrete(y, sample_weight):
        needs_two = covariance != "shared" and _checks.all_concrete(reg) and float(np.asarray(reg)) == 0.0
        what = f"a {covariance!r} covariance (without reg)" if needs_two else "a class mean"
        num_classes = _checks.class_labels(y, num_classes, 2 if needs_two else 1, what, weight)
    elif num_classes is None:
        raise ValueError("num_classes must be given when y is traced (inside jax.jit / jax.vmap)")
    else:
        num_classes = _checks.positive_int(num_classes, "num_classes")
    model = _fit_any(x, y, int(num_classes), covariance, reg, sample_weight)
    if concrete:
        _checks.fitted_gaussian(model, x)
    return model


def fit_bernoulli(x: Array, y: Array, alpha: float | Array = 1.0, *, num_classes: int | None = None) -> BernoulliModel:
    """Bernoulli naive Bayes for binary features, smoothed as scikit-learn's ``BernoulliNB``.

    pₖᵢ = P(xᵢ=1|Cₖ) = (Σ_{n∈Cₖ} xᵢⁿ + α) / (Nₖ + 2α);  P(Cₖ) = Nₖ/N (priors are not smoothed).
    With α = 0 these are the maximum-likelihood frequencies: the lecture's toy set (one (1,1) in C₁; 4×(1,0),
    4×(0,1), 4×(0,0) in C₂) gives P(C₁|(1,1)) = 3/7 exactly.

    Args:
        x: (N, D) binary features (0/1 or bool).
        y: (N,) integer labels 0…K−1.
        alpha: additive (Laplace) smoothing α ≥ 0.
        num_classes: K; inferred from concrete ``y``. Required under ``jit``/``vmap`` (where an invalid label, a
            non-binary feature or α < 0 makes the estimates NaN).

    Returns:
        A :class:`BernoulliModel`: the (K, D) feature probabilities pₖᵢ and the (K,) priors P(Cₖ).

    Raises:
        ValueError: if ``x`` is not 2-D, empty or not binary (0/1); if ``y`` is not (N,) labels 0…K−1 with every
            class present; if ``alpha`` is not a finite scalar ≥ 0; if ``num_classes`` is missing under
            ``jit``/``vmap`` or not a positive integer.
        TypeError: if ``x`` is not real numbers, ``y`` not numeric or bool, or ``alpha`` not a real number.

    Example:
        >>> x = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
        >>> fit_bernoulli(x, np.array([1, 0, 0, 0]), alpha=0.0).feature_probs.tolist()
        [[0.3333333432674408, 0.3333333432674408], [1.0, 1.0]]
    """
    _checks.nonnegative_scalar(alpha, "alpha")
    _checks.real_dtype(x, "x")
    x, y = _as_arrays(x, y)
    _checks.features_and_labels(x, y)
    if _checks.all_concrete(x) and not np.all(np.isin(np.asarray(x), (0.0, 1.0))):
        raise ValueError("x must hold binary features (0 or 1) for Bernoulli naive Bayes")
    if _checks.all_concrete(y):
        num_classes = _checks.class_labels(y, num_classes, 1, "Bernoulli naive Bayes")
    elif num_classes is None:
        raise ValueError("num_classes must be given when y is traced (inside jax.jit / jax.vmap)")
    else:
        num_classes = _checks.positive_int(num_classes, "num_classes")
    return _fit_bernoulli_jit(x, y, int(num_classes), alpha)


def _fit_bernoulli_core(x: Array, y: Array, num_classes: int, alpha: Array) -> BernoulliModel:
    alpha = jnp.asarray(alpha, x.dtype)
    valid = jnp.all(_checks.labels_valid(y, num_classes)) & jnp.all((x == 0) | (x == 1)) & (alpha >= 0)
    if not jnp.issubdtype(y.dtype, jnp.integer) and y.dtype != bool:
        valid = valid & jnp.all(y == jnp.round(y))
    y = y.astype(jnp.int32)
    onehot = jax.nn.one_hot(y, num_classes, dtype=x.dtype)
    counts = onehot.sum(0)
    probs = (onehot.T @ x + alpha) / (counts[:, None] + 2 * alpha)
    priors = counts / x.shape[0]
    return BernoulliModel(feature_probs=_checks.nan_unless(probs, valid), priors=_checks.nan_unless(priors, valid))


_fit_bernoulli_jit = jax.jit(_fit_bernoulli_core, static_argnames=("num_classes",))


# ----------------------------------------------------------------------------------------------- prediction


@functools.partial(jax.jit, static_argnames=("output",))
def _posterior_jit(model: GaussianModel | BernoulliModel, x: Array, output: str) -> Array:
    """The one-program path for device or traced x: a loop over row blocks inside the program."""
    x = _checks.model_features(model, x)
    block = _blocks.block_rows(x.shape[0], x.shape[1] * x.dtype.itemsize)
    joint = _gaussian.joint_fn(model, output)
    return _blocks.map_rows(lambda xb: _gaussian.from_joint(joint(xb), output), x, block)


def _all_defined(out: Array, output: str) -> bool:
    """No row of a posterior is undefined: no NaN (no label −1, its marker for a NaN row)."""
    return bool(jnp.all(out >= 0)) if output == "label" else not bool(jnp.any(jnp.isnan(out)))


def _posterior(model: GaussianModel | BernoulliModel, x: Any, output: str) -> Array:
    """Host x is streamed in row blocks (no whole-array copy, no program per N), the model-only part computed
    once on the host; device or traced x goes through the one-program path."""
    if not isinstance(model, (GaussianModel, BernoulliModel)):
        raise TypeError(f"model must be a GaussianModel or BernoulliModel, got {type(model).__name__}")
    if output == "log_likelihood" and not isinstance(model, GaussianModel):
        raise TypeError("log_likelihood needs a GaussianModel")
    if not _blocks.is_host(x) or not _checks.all_concrete(*model):
        out = _posterior_jit(model, x, output)
        if isinstance(model, GaussianModel) and _checks.all_concrete(*model, out) and not _all_defined(out, output):
            # Concrete x was checked finite, so a NaN row comes from the model: name the covariance at fault.
            _checks.positive_definite_covariance(model)
        return out
    x = _blocks.host_view(x)
    d = model.means.shape[-1] if isinstance(model, GaussianModel) else model.feature_probs.shape[-1]
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x must have shape (N, {d}) to match the model, got {x.shape}")
    if x.shape[0] == 0:
        return _posterior_jit(model, x, output)
    if isinstance(model, BernoulliModel):
        params = model
    else:
        host = GaussianModel(*(np.asarray(a) for a in model))
        try:
            params = _gaussian.prepare(host, output != "log_likelihood", np)
        except np.linalg.LinAlgError:  # a Cholesky factor that does not exist: say which class, not LAPACK's text
            _checks.positive_definite_covariance(model)
            raise
        if output == "log_likelihood":
            params = params._replace(offset=params.offset - np.log(host.priors))
        params = jax.device_put(jax.tree_util.tree_map(lambda a: np.asarray(a, host.means.dtype), params))
    block = _blocks.block_rows(x.shape[0], x.shape[1] * x.dtype.itemsize)
    # Reassembled in a 64-byte-aligned host buffer, which the returned array shares on CPU.
    one_block = functools.partial(_gaussian.posterior_block, params, output=output)
    return jax.device_put(_blocks.map_host(one_block, x, block))


def log_likelihood(model: GaussianModel, x: Array) -> Array:
    """log P(x|Cₖ) for every example and class, (N, K) — the log density N(x; μᵏ, Σᵏ) itself.

    Args:
        model: a :class:`GaussianModel` (K classes, D features).
        x: (N, D) finite features.

    Returns:
        An (N, K) array of log N(xⁿ; μᵏ, Σᵏ) in the model's dtype.

    Raises:
        ValueError: if ``x`` is not 2-D with the model's D columns, or (concrete) holds NaN or inf; if the
            model's shapes are inconsistent, its entries are not finite, its priors are not probabilities or a
            covariance is not positive definite.
        TypeError: if ``model`` is not a :class:`GaussianModel`, or ``x`` is not real numbers.

    Example:
        >>> model = GaussianModel(jnp.zeros((1, 1)), jnp.ones((1, 1, 1)), jnp.ones(1))
        >>> round(float(log_likelihood(model, np.zeros((1, 1)))[0, 0]), 4)       # log N(0; 0, 1) = −½ log 2π
        -0.9189
    """
    if not isinstance(model, GaussianModel):
        raise TypeError(f"model must be a GaussianModel, got {type(model).__name__}")
    return _posterior(model, _to_device(_checks.model_and_features(model, x)), "log_likelihood")


def predict_log_proba(model: GaussianModel | BernoulliModel, x: Array) -> Array:
    """log P(Cₖ|x), (N, K): the joint log P(x|Cₖ) + log P(Cₖ) normalised with ``logsumexp``.

    Under ``jit`` a NaN in x gives a NaN row (values are checked only when concrete).

    Args:
        model: a :class:`GaussianModel` or :class:`BernoulliModel` (K classes, D features).
        x: (N, D) finite features.

    Returns:
        An (N, K) array of log posteriors log P(Cₖ|xⁿ) in the model's dtype.

    Raises:
        ValueError: if ``x`` is not 2-D with the model's D columns, or (concrete) holds NaN or inf; if the
            model's shapes are inconsistent, its entries are not finite, its priors are not probabilities, a
            Bernoulli feature probability lies outside [0, 1] or a covariance is not positive definite.
        TypeError: if ``model`` is not a :class:`GaussianModel` or :class:`BernoulliModel`, or ``x`` is not
            real numbers.
    """
    return _posterior(model, _to_device(_checks.model_and_features(model, x)), "log_proba")


def predict_proba(model: GaussianModel | BernoulliModel, x: Array) -> Array:
    """Posteriors P(Cₖ|x) = P(x|Cₖ)P(Cₖ) / Σⱼ P(x|Cⱼ)P(Cⱼ), (N, K); rows sum to 1.

    x must be finite (``ValueError`` naming ``x``; under ``jit`` a NaN in x gives a NaN row).

    Args:
        model: a :class:`GaussianModel` or :class:`BernoulliModel` (K classes, D features).
        x: (N, D) finite features.

    Returns:
        An (N, K) array of posteriors P(Cₖ|xⁿ) in the model's dtype, each row summing to 1.

    Raises:
        ValueError: if ``x`` is not 2-D with the model's D columns, or (concrete) holds NaN or inf; if the
            model's shapes are inconsistent, its entries are not finite, its priors are not probabilities, a
            Bernoulli feature probability lies outside [0, 1] or a covariance is not positive definite.
        TypeError: if ``model`` is not a :class:`GaussianModel` or :class:`BernoulliModel`, or ``x`` is not
            real numbers.

    Example:
        >>> model = GaussianModel(jnp.array([[0.0], [2.0]]), jnp.ones((1, 1, 1)), jnp.array([0.5, 0.5]))
        >>> predict_proba(model, np.array([[1.0]])).tolist()
        [[0.5, 0.5]]
    """
    return _posterior(model, _to_device(_checks.model_and_features(model, x)), "proba")


def predict(model: GaussianModel | BernoulliModel, x: Array) -> Array:
    """The most probable class argmaxₖ P(Cₖ|x), (N,) integer labels (−1 for a row with a NaN posterior,
    which only a traced NaN in x can give: concrete x is checked).

    Args:
        model: a :class:`GaussianModel` or :class:`BernoulliModel` (K classes, D features).
        x: (N, D) finite features.

    Returns:
        An (N,) integer array of class labels 0…K−1 (−1 for a row with a NaN posterior).

    Raises:
        ValueError: if ``x`` is not 2-D with the model's D columns, or (concrete) holds NaN or inf; if the
            model's shapes are inconsistent, its entries are not finite, its priors are not probabilities, a
            Bernoulli feature probability lies outside [0, 1] or a covariance is not positive definite.
        TypeError: if ``model`` is not a :class:`GaussianModel` or :class:`BernoulliModel`, or ``x`` is not
            real numbers.

    Example:
        >>> model = GaussianModel(jnp.array([[0.0], [2.0]]), jnp.ones((1, 1, 1)), jnp.array([0.5, 0.5]))
        >>> predict(model, np.array([[-1.0], [3.0]])).tolist()
        [0, 1]
    """
    return _posterior(model, _to_device(_checks.model_and_features(model, x)), "label")


def to_linear(model: GaussianModel) -> tuple[Array, Array]:
    """The logistic-regression form of a two-class, shared-covariance model.

    With C₁ the class labelled 1 and C₂ the class labelled 0,

        w = Σ⁻¹(μ¹ − μ²),   b = −½ μ¹ᵀΣ⁻¹μ¹ + ½ μ²ᵀΣ⁻¹μ² + ln(N₁/N₂),

    so that ``sigmoid(x @ w + b) == predict_proba(model, x)[:, 1]`` — the same convention as logistic
    regression (and scikit-learn's ``coef_``/``intercept_``).

    Args:
        model: a two-class :class:`GaussianModel` with a shared covariance (``fit(x, y, covariance="shared")``).

    Returns:
        A tuple ``(w, b)``: w the (D,) weights and b the scalar bias, in the model's dtype.

    Raises:
        ValueError: if the model does not have two classes and a shared covariance; if its shapes are
            inconsistent, its entries are not finite, its priors are not probabilities or its covariance is not
            positive definite.
        TypeError: if ``model`` is not a :class:`GaussianModel`.
    """
    if not isinstance(model, GaussianModel):
        raise TypeError(f"model must be a GaussianModel, got {type(model).__name__}")
    _checks.class_model(model)
    _checks.positive_definite_covariance(model)  # one (D, D) Cholesky on the host; w, b would be NaN without it
    if model.means.shape[0] != 2 or covariance_kind(model) != "shared":
        raise ValueError(
            "model must have two classes with a shared covariance for to_linear (fit(x, y, covariance='shared')), "
            f"got {model.means.shape[0]} classes and a {covariance_kind(model)!r} covariance"
        )
    return _to_linear_jit(model)


@jax.jit
def _to_linear_jit(model: GaussianModel) -> tuple[Array, Array]:
    chol = jnp.linalg.cholesky(model.covariance[0])
    mu2, mu1 = model.means[0], model.means[1]
    w = cho_solve((chol, True), mu1 - mu2)
    b = (
        -0.5 * mu1 @ cho_solve((chol, True), mu1)
        + 0.5 * mu2 @ cho_solve((chol, True), mu2)
        + jnp.log(model.priors[1] / model.priors[0])
    )
    return w, b
