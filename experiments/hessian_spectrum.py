"""The Hessian's eigenvalue spectrum of an MLP on digits, at initialization and after training (course §3.1).

Matrix-free estimates (Lanczos for λ_max, stochastic Lanczos quadrature for the density, Hutchinson for the
trace) are checked against the dense Hessian's ``eigh`` where it fits: each estimate within its own stated
error, computed from its per-vector samples. The shape of the spectrum (a bulk near zero plus a few outliers;
less negative curvature after training) depends on the initialization and the batch order, so it is measured
on ``networks`` independently initialized networks trained together (``train.fit_sweep``), each with its own
dense spectrum at initialization and after training.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxml import curvature, data, losses, models, optim, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, choice, integer, number, table

DESCRIPTION = "SLQ eigenvalue density of an MLP's Hessian on digits, before and after training, checked against eigh"
SECTION = "3.1"

# A stochastic estimate agrees with the exact value when it is within Z standard errors of it (p ≈ 0.003 for a
# normal error); the claims and the report both use this one number.
Z = 3.0
# "Near zero" and "outlier", relative to λ_max (Sagun et al. 2017's bulk-and-outliers picture).
BULK = 0.01
OUTLIER = 0.1


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    hidden: int = 32
    n_examples: int = 1797
    epochs: int = 200
    learning_rate: float = 1e-2
    slq_vectors: int = 16
    slq_steps: int = 80
    hutchinson_samples: int = 200
    checkpoints: int = 10
    dense_max_params: int = 2500
    # independently initialized networks (own init and batch order) for the spectrum-shape claims: each costs two
    # dense Hessians and two eigvalsh; their counts differ by ~100 eigenvalues between init and the trained point
    networks: int = 10
    # replicates: independent probe draws for the trace claims, each of slq_vectors SLQ runs (trace_steps Lanczos
    # steps: the quadrature integrates λ exactly at any depth) and of hutchinson_samples Hutchinson samples
    trace_steps: int = 4
    # the negative control: compare the estimates with tr(H) at initialization, a matrix they did not probe
    trace_reference: str = "trained"
    # 20 draws: a margin 3 − |z| has a spread of about 0.6–1, so its mean (≈ 2) clears 3 SE by a wide margin
    replicates: int = 20

    QUICK = {"hidden": 16, "n_examples": 400, "epochs": 60, "slq_vectors": 12, "slq_steps": 40, "checkpoints": 4}

    DOMAINS = {
        "hidden": integer(1, 10**4),
        "n_examples": integer(2, 1797),  # digits has 1,797 images
        "epochs": integer(0),  # 0: the untrained control
        "learning_rate": number(0, low_open=True),
        "slq_vectors": integer(1, 10**4),
        "slq_steps": integer(1, 10**4),
        "hutchinson_samples": integer(1, 10**6),
        "checkpoints": integer(1, 10**4),
        "dense_max_params": integer(1, 10**6),
        "networks": integer(1, 10**4),
        "trace_steps": integer(1, 10**4),
        "trace_reference": choice(("trained", "init")),
    }


def _mlp_hessian(params: list, x: jax.Array, y: jax.Array) -> jax.Array:
    """The dense Hessian of the mean softmax cross-entropy of a one-hidden-layer ReLU MLP, in closed form.

    With the biases folded in (x̃ = [x, 1], ã = [a, 1]), h = W̃₁ᵀx̃, a = relu(h), d = relu'(h), z = W̃₂ᵀã,
    p = softmax(z), r = p − e_y and A = diag(p) − ppᵀ, per example (relu'' = 0):
    ∂²ℓ/∂W̃₂∂W̃₂ = ããᵀ ⊗ A; ∂²ℓ/∂W̃₁∂W̃₁ = x̃x̃ᵀ ⊗ D W₂ A W₂ᵀ D; ∂²ℓ/∂W̃₂[j,k]∂W̃₁[a,m] = x̃_a d_m (δ_jm r_k +
    ã_j (A W₂ᵀ)_km). Rows in the order [W̃₁ (in+1, hidden), W̃₂ (hidden+1, classes)], not ``ravel_pytree``'s: the
    eigenvalues do not depend on the order. About 5× fewer operations than P Hessian-vector products, which
    makes a dense spectrum per network affordable (the tests check it against ``jax.hessian``).
    """
    l1, l2 = params
    n = x.shape[0]
    xt = jnp.concatenate([x, jnp.ones((n, 1), x.dtype)], 1)
    w1 = jnp.concatenate([l1["w"], l1["b"][None]], 0)
    w2 = l2["w"]
    h = xt @ w1
    d = (h > 0).astype(x.dtype)
    at = jnp.concatenate([h * d, jnp.ones((n, 1), x.dtype)], 1)
    p = jax.nn.softmax(at @ jnp.concatenate([w2, l2["b"][None]], 0))
    r = p - jax.nn.one_hot(y, p.shape[1], dtype=x.dtype)
    i_dim, hid, c = xt.shape[1], w1.shape[1], p.shape[1]
    a = jax.vmap(jnp.diag)(p) - p[:, :, None] * p[:, None, :]
    h22 = jnp.einsum("ij,il,ikm->jklm", at, at, a).reshape((hid + 1) * c, (hid + 1) * c)
    m = jnp.einsum("im,mk,ikl,nl,in->imn", d, w2, a, w2, d).reshape(n, hid * hid)
    h11 = ((xt[:, :, None] * xt[:, None, :]).reshape(n, i_dim * i_dim).T @ m).reshape(i_dim, i_dim, hid, hid)
    h11 = h11.transpose(0, 2, 1, 3).reshape(i_dim * hid, i_dim * hid)
    h21 = jnp.einsum("ij,ikm,im,ia->jkam", at, jnp.einsum("ikl,ml->ikm", a, w2), d, xt)
    diag = jnp.arange(hid)
    h21 = h21.at[diag, :, :, diag].add(jnp.einsum("ik,im,ia->mka", r, d, xt))  # the δ_jm r_k term, j = m < hidden
    h21 = h21.reshape((hid + 1) * c, i_dim * hid)
    return jnp.block([[h11, h21.T], [h21, h22]]) / n


_mlp_hessian_jit = jax.jit(_mlp_hessian)


def _z(m: dict, name: str) -> float:
    """|estimate − tr(H)| in standard errors (inf when the standard error is 0 and they differ)."""
    gap, stderr = abs(m[f"trace_{name}"] - m["trace_dense"]), m[f"trace_{name}_stderr"]
    return gap / stderr if stderr > 0 else (float("inf") if gap > 0 else 0.0)


CONTROL = {"trace_reference": "init"}  # the estimates against tr(H) of another matrix: they must not agree
# No training: the "trained" networks are their initializations, with the broad initial spectrum (≈ 17% of the
# eigenvalues beyond ±1% of λ_max, ≈ 8% below the cut) that training concentrates.
UNTRAINED = {"epochs": 0}


CLAIMS = (
    Claim(
        "lanczos_top_matches_dense",
        "3.1",
        "Lanczos (H·v products only) finds the top Hessian eigenvalues: the top 5 agree with the dense eigh to 1e-6.",
        lambda m: m["top5_max_rel_error_vs_dense"] <= 1e-6,
        reads=("top5_max_rel_error_vs_dense",),
    ),
    Claim(
        "slq_trace_within_error",
        "3.1",
        f"The SLQ mean P·∫λφ(λ)dλ estimates tr(H) without bias: over independent probe draws it lies within "
        f"{Z:g} of its own standard errors (from its per-vector samples) of the dense trace (effect per draw: "
        f"{Z:g} − |z|; a single draw misses with probability ≈ 0.3–1%, so one draw cannot decide).",
        reads=("trace_slq", "trace_slq_stderr", "trace_dense", "trace_slq_draws_outside"),
        effect="slq_z_margin",
        control=CONTROL,
        explain=lambda m: (
            f"|SLQ − dense| = {_z(m, 'slq'):.2f} standard errors for the main estimate; "
            f"{int(m['trace_slq_draws_outside'])} replicate draws beyond {Z:g}."
        ),
    ),
    Claim(
        "hutchinson_trace_within_error",
        "3.1",
        f"Hutchinson's estimate of tr(H) is within {Z:g} of its standard errors of the dense trace, over "
        f"independent probe draws (effect per draw: {Z:g} − |z|).",
        reads=("trace_hutchinson", "trace_hutchinson_stderr", "trace_dense", "trace_hutchinson_draws_outside"),
        effect="hutchinson_z_margin",
        control=CONTROL,
        explain=lambda m: (
            f"|Hutchinson − dense| = {_z(m, 'hutchinson'):.2f} standard errors for the main estimate; "
            f"{int(m['trace_hutchinson_draws_outside'])} replicate draws beyond {Z:g}."
        ),
    ),
    Claim(
        "slq_density_matches_dense",
        "3.1",
        "The SLQ eigenvalue distribution matches the dense spectrum: its Wasserstein-1 distance to the dense "
        "eigenvalues is below the smoothing width σ of the plotted density.",
        lambda m: m["slq_wasserstein_vs_dense"] <= m["slq_sigma"],
        reads=("slq_wasserstein_vs_dense", "slq_sigma"),
    ),
    Claim(
        "bulk_and_outliers",
        "3.1",
        f"After training, H is a bulk near zero plus a few outliers (Sagun et al. 2017): in each independently "
        f"initialized network ≥ 90% of the dense eigenvalues have |λ| ≤ {BULK:g}·λ_max and between 1 and 2·classes "
        f"(here 1–20) exceed {OUTLIER:g}·λ_max (effect per network: the eigenvalues to spare at the nearer of the two "
        "bounds, min(#bulk − ⌈0.9P⌉, #outliers − 1, 2·classes − #outliers) + 1 — an integer, positive when both hold).",
        reads=("bulk_fraction_mean", "bulk_fraction_min", "outliers_min", "outliers_max", "classes"),
        effect="bulk_outlier_margin",
        control=UNTRAINED,
        explain=lambda m: (
            f"Bulk fraction {m['bulk_fraction_min']:.3f}–{m['bulk_fraction_max']:.3f} and "
            f"{m['outliers_min']:.0f}–{m['outliers_max']:.0f} outliers over the {m['networks']:.0f} networks."
        ),
    ),
    Claim(
        "negative_curvature_shrinks",
        "3.1",
        f"Training reduces the negative curvature: in each independently initialized network, fewer dense "
        f"eigenvalues lie below one fixed cut, −{BULK:g}·λ_max at that network's initialization, after training "
        "than at initialization (effect per network: the count at initialization minus the count after training). "
        "The trained points are where Adam stopped, not critical points: λ_min < 0 and ‖g‖ > 0 are reported.",
        reads=("negative_count_init_mean", "negative_count_trained_mean", "lambda_min_trained_min", "grad_norm_max"),
        effect="negative_count_drop",
        control=UNTRAINED,
        explain=lambda m: (
            f"Eigenvalues below the cut: {m['negative_count_init_mean']:.3g} at initialization and "
            f"{m['negative_count_trained_mean']:.3g} after training (means over {m['networks']:.0f} networks); "
            f"the trained points still have λ_min down to {m['lambda_min_trained_min']:.2g} and "
            f"‖g‖ = {m['grad_norm_min']:.2g}–{m['grad_norm_max']:.2g}: not critical points."
        ),
    ),
)


def compute(config: Config) -> Result:
    hidden, n, epochs = config.hidden, config.n_examples, config.epochs
    ds = data.load("digits")
    classes = int(np.max(ds.y)) + 1
    idx = np.random.default_rng(config.seed).permutation(len(ds.y))[:n]
    with jax.enable_x64(True):
        x, y = jnp.asarray(ds.x[idx] / 16.0), jnp.asarray(ds.y[idx])
        model = models.mlp(64, [hidden], classes, activation=jax.nn.relu)
        objective = train.supervised(model.apply, losses.softmax_cross_entropy)
        key = jax.random.key(config.seed)
        k_init, k_fit, k_slq0, k_slq1, k_tr, k_top = jax.random.split(key, 6)
        init_keys, fit_keys = jax.random.split(k_init, config.networks), jax.random.split(k_fit, config.networks)
        params0s = jax.vmap(model.init)(init_keys)
        params0 = jax.tree.map(lambda a: a[0], params0s)  # the first network: figures and the estimator checks
        batch = (x, y)
        accuracy = {"accuracy": lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])}

        def slq(params: object, k: jax.Array) -> curvature.SpectralDensity:
            return curvature.spectral_density(
                objective, params, data=batch, key=k, num_vectors=config.slq_vectors, num_steps=config.slq_steps
            )

        def top5(params: object) -> curvature.Eigenpairs:
            return curvature.eigenpairs(objective, params, 5, data=batch, key=k_top, tol=1e-8, max_steps=200)

        rho0 = slq(params0, k_slq0)
        epochs_seen, tops = [0], [float(top5(params0).eigenvalues[0])]
        every = max(1, epochs // config.checkpoints)

        def record(epoch: int, state: object) -> None:
            epochs_seen.append(epoch)
            tops.append(float(top5(state.params).eigenvalues[0]))

        if epochs > 0:
            # all networks in one compiled program; the first once more alone (the same run: fit_sweep's run i is
            # fit(params[i], key=keys[i])), to follow its λ_max through training
            params1s = train.fit_sweep(
                objective,
                params0s,
                optim.adam(config.learning_rate),
                batch,
                keys=fit_keys,
                epochs=epochs,
                progress=False,
            ).params
            fitted = train.fit(
                objective,
                params0,
                optim.adam(config.learning_rate),
                batch,
                key=fit_keys[0],
                epochs=epochs,
                callback_every=every,
                callback=record,
                metrics=accuracy,
                progress=False,
            )
            hist = {k: np.asarray(v) for k, v in fitted.history.items()}
        else:  # the negative control: no training, the "trained" networks are their initializations
            params1s = params0s
            hist = {"train_loss": np.asarray([objective(params0, batch)]), "train_accuracy": np.asarray([0.0])}
            hist["train_accuracy"][0] = accuracy["accuracy"](params0, batch)
        params1 = jax.tree.map(lambda a: a[0], params1s)
        grads = jax.jit(jax.vmap(lambda p: curvature.ravel(jax.grad(objective)(p, batch))[0]))(params1s)
        grad_norms = np.linalg.norm(np.asarray(grads), axis=1)
        p_count = curvature.num_params(params1)
        if p_count > config.dense_max_params:
            raise ValueError(
                f"the dense checks need P ≤ dense_max_params = {config.dense_max_params}, got P = {p_count} "
                f"(hidden = {hidden}); lower hidden or raise dense_max_params"
            )
        # each network's dense spectrum at initialization and after training (closed-form Hessian, float64 eigh;
        # one BLAS thread: on a shared machine more threads only spin, 3–5× the CPU time)
        def spectrum(stacked: object, i: int) -> np.ndarray:
            return np.linalg.eigvalsh(np.asarray(_mlp_hessian_jit(jax.tree.map(lambda a: a[i], stacked), x, y)))

        spectra = [(spectrum(params0s, i), spectrum(params1s, i)) for i in range(config.networks)]
        rho1 = slq(params1, k_slq1)
        pairs = top5(params1)
        trace = curvature.hutchinson_trace(
            objective, params1, data=batch, key=k_tr, tol=1e-12, max_samples=config.hutchinson_samples
        )
        dense = spectra[0][1]
        # Replicate probe draws for the trace claims (one SLQ call and one Hutchinson call, split into draws).
        r, v, s_h = config.replicates, config.slq_vectors, config.hutchinson_samples
        k_rep_slq, k_rep_h = jax.random.split(jax.random.fold_in(key, 1))
        rho_rep = curvature.spectral_density(
            objective, params1, data=batch, key=k_rep_slq, num_vectors=r * v, num_steps=config.trace_steps
        )
        hutch_rep = curvature.hutchinson_trace(
            objective, params1, data=batch, key=k_rep_h, tol=1e-12, max_samples=r * s_h, chunk_size=s_h
        )
        # the negative control: tr(H) at the first network's initialization, a matrix the estimates did not probe
        reference = float(spectra[0][0].sum()) if config.trace_reference == "init" else float(dense.sum())

    # SLQ: each start vector v gives P·Σᵢ τᵢθᵢ = P·vᵀHv/‖v‖², an unbiased sample of tr(H); their spread is the
    # estimator's own error bar.
    slq_samples = p_count * np.sum(rho1.nodes * rho1.weights, axis=1)
    trace_slq = float(slq_samples.mean())
    trace_slq_stderr = float(slq_samples.std(ddof=1) / np.sqrt(slq_samples.size))
    lam_max = float(dense[-1])

    def z_draws(samples: np.ndarray, n_draws: int) -> np.ndarray:
        """|mean − reference| / standard error of each of n_draws equal groups of the samples."""
        g = np.asarray(samples, np.float64)[: n_draws * (samples.size // n_draws)].reshape(n_draws, -1)
        return np.abs(g.mean(1) - reference) / (g.std(1, ddof=1) / np.sqrt(g.shape[1]))

    z_slq = z_draws(p_count * np.sum(rho_rep.nodes * rho_rep.weights, axis=1), r)
    z_hutch = z_draws(hutch_rep.samples, r)
    w1 = float(stats.wasserstein_distance(rho1.nodes.ravel(), dense, u_weights=rho1.weights.ravel()))
    # Per network: one fixed cut, −BULK·λ_max at its initialization, for both points (a cut that grew with λ_max
    # during training would shrink the count by itself).
    cuts = np.array([-BULK * e0[-1] for e0, _ in spectra])
    neg_init = np.array([np.sum(e0 < c) for (e0, _), c in zip(spectra, cuts)])
    neg_trained = np.array([np.sum(e1 < c) for (_, e1), c in zip(spectra, cuts)])
    bulk_counts = np.array([np.sum(np.abs(e1) <= BULK * e1[-1]) for _, e1 in spectra])
    outliers = np.array([np.sum(e1 > OUTLIER * e1[-1]) for _, e1 in spectra])
    bulk_needed = int(np.ceil(0.9 * p_count))
    margin = np.minimum(bulk_counts - bulk_needed, np.minimum(outliers - 1, 2 * classes - outliers)) + 1
    lam_min_trained = np.array([e1[0] for _, e1 in spectra])
    metrics = {
        "params": float(p_count),
        "classes": float(classes),
        "train_accuracy": float(hist["train_accuracy"][-1]),
        "train_loss": float(hist["train_loss"][-1]),
        "networks": float(config.networks),
        "grad_norm_trained": float(grad_norms[0]),
        "grad_norm_min": float(grad_norms.min()),
        "grad_norm_max": float(grad_norms.max()),
        "lambda_max_init": tops[0],
        "lambda_max_trained": tops[-1],
        "lambda_max_peak": float(np.max(tops)),
        "lambda_max_dense": lam_max,
        "lambda_min_dense": float(dense[0]),
        "top5_max_rel_error_vs_dense": float(
            np.max(np.abs(np.asarray(pairs.eigenvalues) - dense[::-1][:5]) / abs(lam_max))
        ),
        "trace_dense": float(dense.sum()),
        "trace_reference": reference,
        "trace_slq_draws_outside": int(np.sum(z_slq > Z)),
        "trace_hutchinson_draws_outside": int(np.sum(z_hutch > Z)),
        "trace_slq": trace_slq,
        "trace_slq_stderr": trace_slq_stderr,
        "trace_hutchinson": trace.trace,
        "trace_hutchinson_stderr": trace.stderr,
        "slq_wasserstein_vs_dense": w1,
        "slq_sigma": float(rho1.sigma),
        "bulk_fraction_dense": float(np.mean(np.abs(dense) <= BULK * lam_max)),
        "outliers_dense": float(np.sum(dense > OUTLIER * lam_max)),
        "negative_fraction_dense": float(np.mean(dense < -BULK * lam_max)),
        "negative_count_init_mean": float(neg_init.mean()),
        "negative_count_trained_mean": float(neg_trained.mean()),
        "lambda_min_trained_min": float(lam_min_trained.min()),
        "bulk_fraction_mean": float(np.mean(bulk_counts) / p_count),
        "bulk_fraction_min": float(np.min(bulk_counts) / p_count),
        "bulk_fraction_max": float(np.max(bulk_counts) / p_count),
        "outliers_min": float(outliers.min()),
        "outliers_max": float(outliers.max()),
        "lanczos_hvps_top5": float(pairs.num_hvps),
        "slq_hvps": float(rho1.num_hvps),
        "hutchinson_hvps": float(trace.num_hvps),
    }
    m = metrics
    rows = [
        ["λ₁…λ₅, Lanczos", ", ".join(f"{v:.5g}" for v in np.asarray(pairs.eigenvalues)), "", pairs.num_hvps],
        ["λ₁…λ₅, dense eigh", ", ".join(f"{v:.5g}" for v in dense[::-1][:5]), "", p_count],
        ["tr(H), dense eigh", f"{m['trace_dense']:.4g}", "exact", p_count],
        ["tr(H), SLQ P·∫λφ", f"{trace_slq:.4g} ± {trace_slq_stderr:.2g}", f"{_z(m, 'slq'):.2f}", rho1.num_hvps],
        [
            "tr(H), Hutchinson",
            f"{trace.trace:.4g} ± {trace.stderr:.2g}",
            f"{_z(m, 'hutchinson'):.2f}",
            trace.num_hvps,
        ],
        ["W₁(SLQ, dense) vs σ", f"{w1:.3g} vs {rho1.sigma:.3g}", "", ""],
    ]
    bulk_pct = 100 * m["bulk_fraction_dense"]
    critical = grad_norms**2 <= 1e-5  # the lecture's critical-point threshold ‖g‖² ≤ 1e-5
    neg_text = (
        f"The smallest dense eigenvalue is {dense[0]:.3g} ({dense[0] / lam_max:.2g}·λ_max): "
        f"{100 * m['negative_fraction_dense']:.3g}% of the eigenvalues lie below −{BULK:g}·λ_max. Over "
        f"{config.networks} independently initialized networks, the count of eigenvalues below the fixed cut "
        f"−{BULK:g}·λ_max(init) went from {neg_init.mean():.3g} (mean; {neg_init.min()}–{neg_init.max()}) at "
        f"initialization to {neg_trained.mean():.3g} ({neg_trained.min()}–{neg_trained.max()}) after training; "
        f"the bulk fraction is {m['bulk_fraction_min']:.3f}–{m['bulk_fraction_max']:.3f} and the outliers "
        f"{outliers.min()}–{outliers.max()}. At the trained points ‖g‖ = {grad_norms.min():.2g}–"
        f"{grad_norms.max():.2g} and λ_min down to {lam_min_trained.min():.2g}; {int(critical.sum())} of "
        f"{config.networks} meet the lecture's critical-point threshold ‖g‖² ≤ 1e-5: these numbers describe "
        "where Adam stopped" + ("." if critical.all() else ", not critical points.")
    )
    summary = (
        f"A ReLU MLP 64-{hidden}-{classes} ({p_count} parameters) on {n} scikit-learn digits (x/16, softmax "
        f"cross-entropy), trained full-batch with Adam (η = {config.learning_rate:g}, {epochs} epochs) to "
        f"training accuracy {m['train_accuracy']:.3f}. Its dense Hessian (float64 `eigh`) has "
        f"λ_max = {lam_max:.4g}; {bulk_pct:.3g}% of the eigenvalues have |λ| ≤ {BULK:g}·λ_max and "
        f"{int(m['outliers_dense'])} exceed {OUTLIER:g}·λ_max ({classes} classes). {neg_text} "
        f"Stochastic Lanczos quadrature ({config.slq_vectors} Rademacher vectors × {config.slq_steps} steps) "
        f"gives tr(H) = {trace_slq:.4g} ± {trace_slq_stderr:.2g} against the dense {m['trace_dense']:.4g} "
        f"({_z(m, 'slq'):.2f} standard errors), Hutchinson {trace.trace:.4g} ± {trace.stderr:.2g} "
        f"({_z(m, 'hutchinson'):.2f} standard errors, {trace.num_hvps} samples), and the SLQ distribution is "
        f"W₁ = {w1:.3g} from the dense one (σ = {rho1.sigma:.3g}). λ_max went from {tops[0]:.3g} at "
        f"initialization to a peak of {m['lambda_max_peak']:.3g} and {tops[-1]:.3g} at the end of training."
    )
    return Result(
        title=(
            f"Hessian spectrum of an MLP on digits: {bulk_pct:.3g}% of eigenvalues near 0, "
            f"{int(m['outliers_dense'])} outliers"
        ),
        summary=summary,
        metrics=metrics,
        replicates={
            "slq_z_margin": Z - z_slq,
            "hutchinson_z_margin": Z - z_hutch,
            "negative_count_drop": neg_init - neg_trained,
            "bulk_outlier_margin": margin,
        },
        tables={
            f"Spectral quantities after training: estimate, distance from the dense value in standard errors, "
            f"cost in H·v products (P = {p_count})": table(["quantity", "value", "|Δ|/stderr", "H·v"], rows)
        },
        data={
            "tops": (np.asarray(epochs_seen), np.asarray(tops)),
            "dense": dense,
            "density_init": rho0,
            "density_trained": rho1,
            "slq_trace_samples": slq_samples,
            "history": hist,
            "spectra": spectra,
            "label": f"MLP 64-{hidden}-{classes} on {n} digits",
            "epochs": epochs,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d, m = result.data, result.metrics
    rho0, rho1, dense = d["density_init"], d["density_trained"], d["dense"]
    epochs = d["epochs"]
    floor = 1e-6
    lam_max = m["lambda_max_dense"]
    dense_rho = curvature.density_on_grid(dense, np.full(dense.size, 1.0 / dense.size), rho1.grid, rho1.sigma)

    def draw_density(ax: object) -> None:
        ax.plot(rho0.grid, np.maximum(rho0.density, floor), color="C0", label="SLQ, at initialization")
        ax.plot(rho1.grid, np.maximum(rho1.density, floor), color="C1", label=f"SLQ, after {epochs} epochs")
        ax.plot(rho1.grid, np.maximum(dense_rho, floor), "--", color="k", linewidth=1, label="dense eigh, trained")
        ax.set_yscale("log")
        ax.set_ylim(floor, None)
        ax.set_xlabel("eigenvalue λ")
        ax.set_ylabel(f"density φ(λ) (Gaussians of width σ = {rho1.sigma:.2g})")

    def draw_cdf(ax: object) -> None:
        # cumulative distributions on a symlog axis, so that the negative eigenvalues show beside the bulk
        order = np.argsort(rho1.nodes.ravel())
        nodes = rho1.nodes.ravel()[order]
        cw = np.cumsum(rho1.weights.ravel()[order]) / rho1.weights.sum()
        ax.step(nodes, cw, where="post", color="C1", label="SLQ quadrature, trained")
        ax.step(
            dense,
            np.arange(1, dense.size + 1) / dense.size,
            where="post",
            color="k",
            linestyle="--",
            linewidth=1,
            label="dense eigh, trained",
        )
        lin = 1e-3 * lam_max
        ax.set_xscale("symlog", linthresh=lin)
        # decades beyond twice the linear zone and within the data, so that the labels around 0 do not collide
        lo, hi = min(float(dense[0]), float(nodes[0])), max(float(dense[-1]), float(nodes[-1]))
        decades = 10.0 ** np.arange(np.ceil(np.log10(2 * lin)), np.ceil(np.log10(max(abs(lo), hi))) + 1)
        ax.set_xticks(np.concatenate([-decades[decades <= abs(lo)][::-1], [0.0], decades[decades <= hi]]))
        ax.tick_params(axis="x", labelsize="x-small", labelrotation=45)
        ax.axvline(-BULK * lam_max, color="gray", linewidth=0.8, linestyle=":")
        ax.axvline(BULK * lam_max, color="gray", linewidth=0.8, linestyle=":")
        ax.set_xlabel(f"eigenvalue λ (symlog, linear within ±{1e-3 * lam_max:.1g})")
        ax.set_ylabel("fraction of eigenvalues ≤ λ")
        ax.legend(fontsize="x-small", loc="upper left")

    fig_density = plot.panels(
        out / "spectral_density.png",
        [draw_density, draw_cdf],
        titles=[
            "eigenvalue density",
            f"cumulative: W₁ = {m['slq_wasserstein_vs_dense']:.2g}, dotted ±{BULK:g}·λ_max",
        ],
        suptitle=f"Hessian spectrum, {d['label']}: SLQ against the dense eigh",
        ncols=2,
    )
    ep, tops = d["tops"]
    hist = d["history"]

    def draw_top(ax: object) -> None:
        ax.plot(ep, tops, "o-", label="λ_max (Lanczos)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("λ_max")
        ax.set_ylim(0, None)

    def draw_loss(ax: object) -> None:
        e = np.arange(1, len(hist["train_loss"]) + 1)
        ax.plot(e, hist["train_loss"], label="training loss")
        ax.plot(e, np.maximum(1 - hist["train_accuracy"], 1e-4), label="training error (floored at 1e-4)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss / error")

    fig_top = plot.panels(
        out / "top_eigenvalue_during_training.png",
        [draw_top, draw_loss],
        titles=[
            f"λ_max: {tops[0]:.3g} → peak {m['lambda_max_peak']:.3g} → {tops[-1]:.3g}",
            f"training accuracy {m['train_accuracy']:.3f} at the end",
        ],
        suptitle=f"Sharpness during training, {d['label']}",
        ncols=2,
    )
    return [fig_density, fig_top]
