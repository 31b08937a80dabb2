"""Critical points: what kind they are, how to leave a saddle, and how to find one.

At a critical point θ′ the gradient g vanishes and L(θ) ≈ L(θ′) + ½(θ−θ′)ᵀH(θ−θ′): the Hessian H decides.
All eigenvalues λ of H positive: a local minimum; all negative: a local maximum; both signs: a saddle point,
which gradient descent can leave along an eigenvector u of a negative λ, since
L(θ′ + tu) ≈ L(θ′) + ½λt² < L(θ′).
When the deciding eigenvalues are zero the second-order test says nothing: ``degenerate``.

* :func:`classify_critical_point` does that test (dense eigh below ``dense_threshold`` parameters, Lanczos's
  extreme eigenpairs above it) and returns the escape step.
* :func:`find_critical_point` drives ‖g‖ to a tolerance from a start point by Levenberg–Marquardt on the
  residual g(θ) = 0 (Gauss–Newton for ½‖g‖², whose Jacobian is H): p = −(H² + μI)⁻¹Hg. It converges to the
  nearby critical point of any kind (saddles included), which is what the minimum-ratio experiment needs.

Example:
    The lecture's saddle, y = w₁w₂x with x = 1, ŷ = 1:

    >>> f = lambda w: (1.0 - w[0] * w[1]) ** 2
    >>> cp = classify_critical_point(f, jnp.zeros(2))
    >>> cp.kind, cp.eigenvalues
    ('saddle_point', Array([-2.,  2.], dtype=float32))
    >>> f(cp.escape_direction) < f(jnp.zeros(2))      # the step along the negative eigenvector lowers L
    Array(True, dtype=bool)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jaxml import _checks
from jaxml.curvature import _core
from jaxml.curvature._core import Data, Objective, Params
from jaxml.curvature.hessian import hessian
from jaxml.curvature.spectra import run_eigsh

__all__ = [
    "KINDS",
    "CriticalPoint",
    "CriticalPointSearch",
    "classify_critical_point",
    "classify_eigenvalues",
    "find_critical_point",
    "minimum_ratio",
]

#: The kinds of point :func:`classify_critical_point` reports, the values of :attr:`CriticalPoint.kind`.
KINDS = ("local_minimum", "local_maximum", "saddle_point", "degenerate", "not_critical")


class CriticalPoint(NamedTuple):
    """The second-order test at θ (what :func:`classify_critical_point` returns).

    Attributes:
        kind: one of :data:`KINDS`.
        eigenvalues: ascending; all P of them (``exact``) or the k smallest then the k largest (Lanczos).
        escape_direction: a step like ``params`` along the eigenvector of the most negative λ, scaled by a
            line search so that f(θ + step) < f(θ); None when no eigenvalue is below −``tolerance``, when θ is
            not critical, or when no tried step lowered f. Sign convention: the step is t·u with u the unit
            eigenvector whose largest-magnitude component is positive; t < 0 only where −u lowers f more, so
            at a symmetric saddle (f(θ + tu) = f(θ − tu), e.g. L = θ₁² − θ₂² at 0: step +t·(0, 1)) t > 0.
        grad_norm: ‖g‖.
        loss: f(θ).
        escape_loss: f(θ + escape_direction), or None.
        tolerance: the eigenvalue tolerance used: λ with ``|λ| ≤ tolerance`` counts as zero.
        num_positive: how many of ``eigenvalues`` are > ``tolerance``.
        num_negative: how many of ``eigenvalues`` are < −``tolerance``.
        num_zero: how many of ``eigenvalues`` count as zero.
        minimum_ratio: the lecture's (number of λ > tolerance) / (number of eigenvalues), of ``eigenvalues``.
        exact: whether ``eigenvalues`` is the whole spectrum (dense) rather than its extremes (Lanczos).
        num_hvps: H·v products used (Lanczos; 0 for the dense path, which uses P of them inside ``hessian``).
    """

    kind: str
    eigenvalues: jax.Array
    escape_direction: Params | None
    grad_norm: float
    loss: float
    escape_loss: float | None
    tolerance: float
    num_positive: int
    num_negative: int
    num_zero: int
    minimum_ratio: float
    exact: bool
    num_hvps: int


def classify_eigenvalues(lam_min: float, lam_max: float, tolerance: float) -> str:
    """The kind decided by the extreme eigenvalues.

    λ_min > tol → minimum; λ_max < −tol → maximum; λ_min < −tol and λ_max > tol → saddle; otherwise (a
    deciding eigenvalue with ``|λ| ≤ tol``, equality included) degenerate. A NaN or inf argument is a
    ``ValueError`` (NaN compares false everywhere and would read as "degenerate").

    Args:
        lam_min: λ_min, the smallest eigenvalue of H, a finite real number.
        lam_max: λ_max, the largest eigenvalue of H, a finite real number.
        tolerance: tol ≥ 0, the magnitude at or below which an eigenvalue counts as zero.

    Returns:
        The kind, one of ``"local_minimum"``, ``"local_maximum"``, ``"saddle_point"`` and ``"degenerate"``
        (:data:`KINDS` without ``"not_critical"``).

    Raises:
        ValueError: if an argument is NaN or inf, or ``tolerance`` < 0.
        TypeError: if an argument is not a real number (a bool, a string).

    Example:
        >>> classify_eigenvalues(-2.0, 2.0, 1e-6)
        'saddle_point'
    """
    _checks.real(lam_min, "lam_min")
    _checks.real(lam_max, "lam_max")
    _checks.real(tolerance, "tolerance", low=0.0)
    if lam_min > tolerance:
        return "local_minimum"
    if lam_max < -tolerance:
        return "local_maximum"
    if lam_min < -tolerance and lam_max > tolerance:
        return "saddle_point"
    return "degenerate"


def minimum_ratio(eigenvalues: Any, tolerance: float = 0.0) -> float:
    """The lecture's minimum ratio: (number of eigenvalues > ``tolerance``) / (number of eigenvalues).

    Strictly greater: an eigenvalue equal to ``tolerance`` counts as zero, not positive (as in
    :func:`classify_critical_point`, where ``|λ| ≤ tol`` is zero). The eigenvalues must be finite (a NaN is not
    greater than ``tolerance`` and would silently lower the ratio).

    Args:
        eigenvalues: the eigenvalues λ of H, an array-like of finite reals (any shape; flattened).
        tolerance: the threshold an eigenvalue must exceed to count as positive, a finite real number.

    Returns:
        The fraction of eigenvalues > ``tolerance``, a Python ``float`` in [0, 1].

    Raises:
        ValueError: if ``eigenvalues`` is empty or holds NaN or inf, or ``tolerance`` is not finite.
        TypeError: if ``eigenvalues`` is boolean, complex or not numeric, or ``tolerance`` is not a real number.

    Example:
        >>> minimum_ratio([-1.0, 0.5, 2.0, 3.0])
        0.75
    """
    _checks.real_array(eigenvalues, "eigenvalues", allow_bool=False)
    _checks.real(tolerance, "tolerance")
    lam = np.asarray(eigenvalues, np.float64).reshape(-1)
    if lam.size == 0:
        raise ValueError("eigenvalues must be non-empty")
    return float(np.mean(lam > tolerance))


def _full_value_and_grad(f: Objective, params: Params, data: Data) -> tuple[jax.Array, Params]:
    if data is None:
        return jax.value_and_grad(f)(params)
    return jax.value_and_grad(f)(params, tuple(data))


_value_and_grad_jit = jax.jit(_full_value_and_grad, static_argnames=("f",))


def _line_search_impl(f: Objective, theta: jax.Array, u: jax.Array, steps: jax.Array, data: Data, lay: Any):
    value = _core.flat_objective(f, lay, data)
    return jax.lax.map(lambda t: value(theta + t * u), steps)


_line_search_jit = jax.jit(_line_search_impl, static_argnames=("f", "lay"))


def _escape(
    f: Objective, params: Params, u: jax.Array, lam: float, loss: float, data: Data, step_scale: float
) -> tuple[jax.Array | None, float | None]:
    """Scale the unit eigenvector u by t = ±step_scale·2^(i/2), i = −60…8, keeping the lowest f among the
    steps that achieve a tenth of the quadratic model's decrease, f(θ+tu) ≤ f(θ) − 0.05|λ|t² (else any
    decrease)."""
    lay = _core.layout(params)
    theta = _core.flatten(params)
    t = step_scale * 2.0 ** (np.arange(-60, 9) / 2.0)
    t = np.concatenate([t, -t]).astype(np.dtype(theta.dtype))
    values = np.asarray(_line_search_jit(f, theta, u, jnp.asarray(t), None if data is None else tuple(data), lay))
    ok = np.isfinite(values) & (values <= loss - 0.05 * abs(lam) * t.astype(np.float64) ** 2)
    if not ok.any():
        ok = np.isfinite(values) & (values < loss)
    if not ok.any():
        return None, None
    best = int(np.argmin(np.where(ok, values, np.inf)))
    half = t.size // 2
    if best >= half and ok[best - half] and values[best - half] <= values[best] + 1e-12 * (1 + abs(loss)):
        best -= half  # a tie between ±t: keep the sign convention of u
    return jnp.asarray(t[best], theta.dtype) * u, float(values[best])


def classify_critical_point(
    f: Objective,
    params: Params,
    *,
    grad_tol: float = 1e-5,
    rtol: float | None = None,
    dense_threshold: int = 2048,
    k: int = 5,
    key: Any = None,
    max_steps: int = 300,
    data: Data = None,
    step_scale: float = 1.0,
) -> CriticalPoint:
    """The second-order test at θ: local minimum, local maximum, saddle point, degenerate, or not critical.

    1. ‖g‖ > ``grad_tol`` → ``not_critical``.
    2. The spectrum of H: all P eigenvalues by a dense ``eigh`` when P ≤ ``dense_threshold``, else the k
       smallest and k largest by Lanczos (``key``, ``max_steps``).
    3. An eigenvalue counts as zero when ``|λ| ≤ tol`` = max(``rtol``·``max|λ|``, ‖g‖) (``rtol`` default √eps of the
       dtype; the ‖g‖ term because at a point critical only up to ‖g‖, H's null directions, e.g. from
       symmetries of the network, are perturbed by O(‖g‖)). The kind then follows
       :func:`classify_eigenvalues`.
    4. With λ_min < −tol, the escape step: the unit eigenvector u of λ_min times the t found by a line search
       on f(θ + tu) over t = ±``step_scale``·2^(i/2) (both signs, since ±u are both eigenvectors).

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, data)`` with ``data`` (the full data set
            as one batch).
        params: θ, a pytree of finite float arrays (use float64: ``with jax.enable_x64(True)``).
        grad_tol: absolute tolerance on ‖g‖, ≥ 0.
        rtol: relative eigenvalue tolerance, ≥ 0 (default √eps of θ's dtype).
        dense_threshold: the largest P for the dense path, a positive integer.
        k: eigenpairs at each end of the spectrum for the Lanczos path, a positive integer (at most P/2 are
            used).
        key: PRNG key or int seed for Lanczos's start vector (default ``jax.random.key(0)``).
        max_steps: Lanczos steps at most, a positive integer.
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f``.
        step_scale: the line search's unit step length, > 0.

    Returns:
        A :class:`CriticalPoint`: the kind (one of :data:`KINDS`), the eigenvalues (ascending), the escape step
        (a pytree like ``params``, or None), ‖g‖, f(θ) and the counts behind the minimum ratio.

    Raises:
        ValueError: if ``params`` or ``data`` is empty or holds NaN or inf; if ``params`` has no array leaves;
            if the arrays of ``data`` do not share a leading axis; if ``f`` does not return a real scalar; if
            ``grad_tol``, ``rtol`` or ``step_scale`` is outside its range or not finite; if
            ``dense_threshold``, ``k`` or ``max_steps`` is not a positive integer; if f, ∇f, H or an
            eigenvalue is not finite at ``params``.
        TypeError: if ``f`` is not callable or cannot be called as ``f(params)`` / ``f(params, data)``; if a
            leaf of ``params`` is not floating-point; if ``data`` is not a non-empty tuple or list of arrays;
            if a tolerance is not a real number or an integer argument not an integer; if ``key`` is neither a
            PRNG key nor an int seed (Lanczos path).

    Example:
        >>> cp = classify_critical_point(lambda w: (1.0 - w[0] * w[1]) ** 2, jnp.zeros(2))
        >>> cp.kind
        'saddle_point'
    """
    lay, _ = _core.check_inputs(f, params, data)
    theta = _core.flatten(params)
    _checks.real(grad_tol, "grad_tol", low=0.0)
    if rtol is not None:
        _checks.real(rtol, "rtol", low=0.0)
    _checks.real(step_scale, "step_scale", low=0.0, low_open=True)
    dense_threshold = _checks.positive_int(dense_threshold, "dense_threshold")
    k = _checks.positive_int(k, "k")
    p = theta.shape[0]
    rtol = float(np.sqrt(np.finfo(np.dtype(theta.dtype)).eps)) if rtol is None else float(rtol)

    loss, g = _value_and_grad_jit(f, params, None if data is None else tuple(data))
    gnorm = float(jnp.linalg.norm(_core.flatten(g)))
    loss = float(loss)
    _core.check_point(np.array([math.isfinite(loss), math.isfinite(gnorm)]))

    num_hvps = 0
    if p <= dense_threshold:
        h = hessian(f, params) if data is None else hessian(f, params, data=tuple(data))
        lam_host, u_host = dense_spectrum(h)
        lam, u_min = jnp.asarray(lam_host, h.dtype), jnp.asarray(u_host, h.dtype)
        exact = True
    else:
        kk = min(k, p // 2)
        res, _, _ = run_eigsh(
            f,
            params,
            kk,
            "both",
            key=key,
            tol=None,
            max_steps=max_steps,
            basis_size=None,
            data=None if data is None else tuple(data),
            batch_size=None,
            check_every=5,
        )
        order = np.argsort(res.values)
        lam = jnp.asarray(res.values[order])
        u_min = res.vectors[int(order[0])]
        num_hvps = res.num_hvps
        exact = False

    lam_np = np.asarray(lam, np.float64)
    _core.check_finite(lam_np, "an eigenvalue of the Hessian")  # hessian / run_eigsh have raised already
    scale = float(np.max(np.abs(lam_np)))
    tol = max(rtol * scale, gnorm)
    lam_min, lam_max = float(lam_np[0]), float(lam_np[-1])
    n_pos = int(np.sum(lam_np > tol))
    n_neg = int(np.sum(lam_np < -tol))
    n_zero = lam_np.size - n_pos - n_neg
    ratio = n_pos / lam_np.size

    if gnorm > grad_tol:
        return CriticalPoint(
            "not_critical", lam, None, gnorm, loss, None, tol, n_pos, n_neg, n_zero, ratio, exact, num_hvps
        )
    kind = classify_eigenvalues(lam_min, lam_max, tol)
    escape, escape_loss = None, None
    if lam_min < -tol:
        # Sign convention: the largest-magnitude component of u is positive (u and −u are both eigenvectors).
        u_min = u_min * jnp.where(u_min[jnp.argmax(jnp.abs(u_min))] < 0, -1.0, 1.0).astype(u_min.dtype)
        step, escape_loss = _escape(f, params, u_min, lam_min, loss, data, step_scale)
        escape = None if step is None else _core.unflatten(lay, step)
    return CriticalPoint(kind, lam, escape, gnorm, loss, escape_loss, tol, n_pos, n_neg, n_zero, ratio, exact, num_hvps)


def dense_spectrum(h: Any) -> tuple[np.ndarray, np.ndarray]:
    """All eigenvalues of the symmetric matrix H, ascending, and a unit eigenvector u of the smallest, on the host.

    One Householder reduction QᵀHQ = T to tridiagonal form (LAPACK ``sytrd``), the eigenvalues of T
    (``stemr``), T's lowest eigenvector z, and u = Qz applied reflector by reflector (O(P²)). The cost is that of
    the eigenvalues alone (``eigvalsh``), where a full ``eigh`` would also accumulate all P eigenvectors
    (``python -m benchmarks.curvature --tasks dense`` times it against NumPy, SciPy's ``syevd`` and
    ``jnp.linalg.eigh``).

    Example:
        >>> lam, u = dense_spectrum(np.array([[2.0, 1.0], [1.0, 2.0]]))
        >>> lam, np.round(np.abs(u), 4)
        (array([1., 3.]), array([0.7071, 0.7071]))
    """
    _checks.real_array(h, "h", ndim=2)
    if np.shape(h)[0] != np.shape(h)[1]:
        raise ValueError(f"h must be a square matrix, got shape {np.shape(h)}")
    a = np.array(h, order="F")  # a copy: sytrd overwrites it
    n = a.shape[0]
    sytrd, sytrd_lwork = scipy.linalg.lapack.get_lapack_funcs(("sytrd", "sytrd_lwork"), (a,))
    lwork, _ = sytrd_lwork(n, lower=1)
    c, d, e, tau, info = sytrd(a, lower=1, lwork=max(int(lwork), 1), overwrite_a=1)
    if info != 0:
        raise ValueError(f"LAPACK sytrd failed on the Hessian (info={info})")
    lam = scipy.linalg.eigvalsh_tridiagonal(d, e) if n > 1 else d.copy()
    if n == 1:
        return lam, np.ones(1, a.dtype)
    u = scipy.linalg.eigh_tridiagonal(d, e, select="i", select_range=(0, 0))[1][:, 0]
    # Q = H₀H₁…H_{n−2}, Hᵢ = I − τᵢvᵢvᵢᵀ with vᵢ = (0, …, 0, 1, c[i+2:, i]) (its 1 at index i+1)
    for i in range(n - 2, -1, -1):
        v = c[i + 1 :, i].copy()
        v[0] = 1.0
        u[i + 1 :] -= tau[i] * (v @ u[i + 1 :]) * v
    return lam, u / np.linalg.norm(u)


# ----------------------------------------------------------------------------------------------------
# Finding critical points


class CriticalPointSearch(NamedTuple):
    """The result of :func:`find_critical_point` (arrays, so the search can be ``jax.vmap``-ed over starts).

    Attributes:
        params: the final θ (a pytree like the start).
        loss: f(θ).
        grad_norm: ‖g(θ)‖.
        num_steps: accepted Levenberg–Marquardt steps.
        converged: ‖g‖ ≤ ``tol``.
        grad_norm_history: (max_steps+1,) ‖g‖ after each step (NaN past ``num_steps``).
    """

    params: Params
    loss: jax.Array
    grad_norm: jax.Array
    num_steps: jax.Array
    converged: jax.Array
    grad_norm_history: jax.Array


class _SearchState(NamedTuple):
    step: jax.Array
    theta: jax.Array
    grad: jax.Array
    gnorm: jax.Array
    mu: jax.Array
    stalled: jax.Array
    history: jax.Array


def _find_impl(f, params, data, *, lay, tol, max_steps, damping, max_trials, method, cg_steps):
    theta0 = _core.flatten(params)
    dtype = theta0.dtype
    value = _core.flat_objective(f, lay, data)

    grad = jax.grad(value)

    def solver(th: jax.Array, g: jax.Array):
        """Returns (scale², p(μ)) for the LM direction p = −(H² + μ·scale²·I)⁻¹Hg."""
        if method == "dense":
            lam, q = jnp.linalg.eigh(jax.hessian(value)(th))
            gq = q.T @ g
            s2 = jnp.max(lam**2)

            def direction(mu: jax.Array) -> jax.Array:
                return -q @ (lam / (lam**2 + mu * s2) * gq)

            return direction
        _, hv = jax.linearize(grad, th)
        cg_tol = float(jnp.finfo(dtype).eps) ** 0.75
        hg = hv(g)
        # ‖Hg‖/‖g‖ ≤ ‖H‖ gives a cheap scale for μ; CG solves the SPD system (H² + μs²I)p = −Hg.
        s2 = (jnp.linalg.norm(hg) / jnp.maximum(jnp.linalg.norm(g), jnp.finfo(dtype).tiny)) ** 2

        def direction(mu: jax.Array) -> jax.Array:
            op = lambda v: hv(hv(v)) + mu * s2 * v
            p, _ = jax.scipy.sparse.linalg.cg(op, -hg, tol=cg_tol, maxiter=cg_steps)
            return p

        return direction

    def cond(s: _SearchState) -> jax.Array:
        return (s.step < max_steps) & (s.gnorm > tol) & ~s.stalled

    def body(s: _SearchState) -> _SearchState:
        direction = solver(s.theta, s.grad)

        def trial_cond(t: tuple) -> jax.Array:
            i, ok, *_ = t
            return (i < max_trials) & ~ok

        def trial_body(t: tuple) -> tuple:
            i, _, mu, th, g, gn = t
            cand = s.theta + direction(mu)
            g_new = grad(cand)
            gn_new = jnp.linalg.norm(g_new)
            ok = jnp.isfinite(gn_new) & (gn_new < s.gnorm)
            return (
                i + 1,
                ok,
                jnp.where(ok, mu, mu * 4.0),
                jnp.where(ok, cand, th),
                jnp.where(ok, g_new, g),
                jnp.where(ok, gn_new, gn),
            )

        init = (jnp.zeros((), jnp.int32), jnp.zeros((), bool), s.mu, s.theta, s.grad, s.gnorm)
        _, ok, mu, th, g, gn = jax.lax.while_loop(trial_cond, trial_body, init)
        mu = jnp.where(ok, jnp.maximum(mu / 3.0, 1e-15), mu)
        step = s.step + ok.astype(s.step.dtype)
        return _SearchState(step, th, g, gn, mu, ~ok, s.history.at[step].set(jnp.where(ok, gn, s.history[step])))

    g0 = grad(theta0)
    gn0 = jnp.linalg.norm(g0)
    history = jnp.full((max_steps + 1,), jnp.nan, dtype).at[0].set(gn0)
    state = _SearchState(
        jnp.zeros((), jnp.int32), theta0, g0, gn0, jnp.asarray(damping, dtype), jnp.zeros((), bool), history
    )
    s = jax.lax.while_loop(cond, body, state)
    theta = s.theta
    return CriticalPointSearch(_core.unflatten(lay, theta), value(theta), s.gnorm, s.step, s.gnorm <= tol, s.history)


_find_jit = jax.jit(
    _find_impl, static_argnames=("f", "lay", "tol", "max_steps", "damping", "max_trials", "method", "cg_steps")
)


def find_critical_point(
    f: Objective,
    params: Params,
    *,
    tol: float = 1e-8,
    max_steps: int = 100,
    damping: float = 1e-3,
    method: str = "auto",
    dense_threshold: int = 2048,
    cg_steps: int = 100,
    max_trials: int = 30,
    data: Data = None,
) -> CriticalPointSearch:
    """From θ₀, reach ‖g‖ ≤ ``tol`` by Levenberg–Marquardt steps on g(θ) = 0.

    Each step minimizes ‖g + Hp‖² + μ‖p‖², p = −(H² + μI)⁻¹Hg: Gauss–Newton on ½‖g‖² (whose gradient is Hg),
    damped Newton p → −H⁻¹g as μ → 0, and a short step along −Hg for large μ. Since H² is positive
    semidefinite, the step is defined at saddles too, so the search finds the nearby critical point whatever
    its kind. μ (relative to max λ²) shrinks ×⅓ after a step that lowers ‖g‖ and grows ×4 until one does
    (``max_trials``); the search stops at ‖g‖ ≤ ``tol``, after ``max_steps`` accepted steps, or when no trial
    lowers ‖g‖ (a stall, e.g. at float precision).

    ``method="dense"`` eigendecomposes H each step (exact; P ≤ a few thousand); ``"cg"`` is matrix-free (CG on
    (H² + μI)p = −Hg, 2·``cg_steps`` H·v products at most per trial); ``"auto"`` picks dense when
    P ≤ ``dense_threshold``. The search is one compiled program (``lax.while_loop``) and can be vmapped over
    start points. Use float64 (``with jax.enable_x64(True)``) for tolerances below ~1e-5. A start where ∇f (or,
    when no step was taken, f) is not finite raises ``ValueError`` naming params (not checked under ``vmap``).

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, data)`` with ``data``.
        params: the start θ₀, a pytree of finite floating-point arrays.
        tol: the target ‖g‖, > 0.
        max_steps: the most accepted steps, a positive integer.
        damping: the initial μ, > 0 (relative to max λ²).
        method: ``"auto"``, ``"dense"`` or ``"cg"``.
        dense_threshold: the largest P for which ``"auto"`` picks ``"dense"``, a positive integer.
        cg_steps: the most CG iterations per solve (``"cg"``), a positive integer.
        max_trials: the most damping increases per step, a positive integer.
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f``.

    Returns:
        A :class:`CriticalPointSearch`: the final θ (a pytree like ``params``), f(θ), ‖g(θ)‖, the accepted steps,
        whether ‖g‖ ≤ ``tol`` and the (``max_steps`` + 1,) history of ‖g‖, all as JAX arrays.

    Raises:
        ValueError: if ``method`` is not one of ``"auto"``, ``"dense"``, ``"cg"``; if ``tol`` or ``damping``
            is not a finite number > 0; if ``max_steps``, ``max_trials``, ``cg_steps`` or ``dense_threshold``
            is not a positive integer; if ``params`` or ``data`` is empty or holds NaN or inf; if ``params``
            has no array leaves; if the arrays of ``data`` do not share a leading axis; if ``f`` does not return
            a real scalar; if ∇f at the start (or f, when no step was taken) is not finite.
        TypeError: if ``f`` is not callable or cannot be called as ``f(params)`` / ``f(params, data)``; if a
            leaf of ``params`` is not floating-point; if ``data`` is not a non-empty tuple or list of arrays;
            if ``tol`` or ``damping`` is not a real number, or an integer argument not an integer.

    Example:
        >>> f = lambda w: (1.0 - w[0] * w[1]) ** 2
        >>> s = find_critical_point(f, jnp.array([0.3, -0.2]))
        >>> bool(s.converged), bool(jnp.all(jnp.abs(s.params) < 1e-6))   # the saddle at the origin
        (True, True)
    """
    lay, _ = _core.check_inputs(f, params, data)
    if method not in ("auto", "dense", "cg"):
        raise ValueError(f"method must be 'auto', 'dense' or 'cg', got {method!r}")
    _checks.real(tol, "tol", low=0.0, low_open=True)
    _checks.real(damping, "damping", low=0.0, low_open=True)
    max_steps = _checks.positive_int(max_steps, "max_steps")
    max_trials = _checks.positive_int(max_trials, "max_trials")
    cg_steps = _checks.positive_int(cg_steps, "cg_steps")
    dense_threshold = _checks.positive_int(dense_threshold, "dense_threshold")
    p = lay.size
    if method == "auto":
        method = "dense" if p <= dense_threshold else "cg"
    result = _find_jit(
        f,
        params,
        None if data is None else tuple(data),
        lay=lay,
        tol=float(tol),
        max_steps=max_steps,
        damping=float(damping),
        max_trials=max_trials,
        method=method,
        cg_steps=cg_steps,
    )
    # ‖g‖ at the start is the history's first entry: a NaN there would stall the search at params silently.
    _core.check_finite(result.grad_norm_history[:1], "the gradient ∇f(params)")
    if _checks.is_concrete(result.loss) and int(result.num_steps) == 0:
        _core.check_finite(result.loss, "the loss f(params)")
    return result
