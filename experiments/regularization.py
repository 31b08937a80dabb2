"""Model complexity and L2 regularization: polynomial degree 1–5 and the λ sweep 0…100000, lecture beside
ours (course §1.9)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import data, models, plot
from jaxml.report import Claim, ExperimentConfig, Requirement, Result, choice, integer, number, table, tuple_of

DESCRIPTION = "Polynomial degree 1–5 (10 train / 10 test) and the λ sweep 0…1e5 on COVID HW1, beside the lecture"
SECTION = "1.9"

#: course §1.9, the lecture's Pokémon CP tables (average absolute error).
LECTURE_DEGREE = {"train": (31.9, 15.4, 15.3, 14.9, 12.8), "test": (35.0, 18.4, 18.1, 28.2, 232.1)}
LECTURE_LAMBDA = {"train": (1.9, 2.3, 3.5, 4.1, 5.6, 6.3, 8.5), "test": (102.3, 68.7, 25.7, 11.1, 12.8, 18.7, 26.8)}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    # Every fit is closed form: 200 random draws of the rows cost a second, and the heavy-tailed test-error
    # ratios of 10-point fits need that many for their mean to be the same at every seed.
    replicates: int = 200
    feature_1d: str = "cli_d5"
    n_small: int = 10  # 100 is the control: with enough rows, degree 5 no longer overfits
    degrees: tuple[int, ...] = (1, 2, 3, 4, 5)
    lambdas: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)
    n_train: int = 100
    lambda_draws: int = 20  # setting 2's draws (its λ = 0 fit is a 100 × 116 SVD each; 20 already give z > 20)
    smooth_degree: int = 5
    smooth_lambdas: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0, 10.0)
    penalty_scale: float = 1.0  # multiplies every λ; 0 is the control (no penalty: λ changes nothing)

    # Everything is closed form and takes a second: the quick run is the full run.
    QUICK = {}

    DOMAINS = {
        "feature_1d": choice(
            lambda: data.load("covid").feature_names,
            "a COVID feature name, e.g. 'cli_d5' (data.load('covid').feature_names)",
        ),
        "n_small": integer(1, 1349),  # training and test rows: 2·n_small of COVID's 2,699
        "degrees": tuple_of(integer(1, 20), increasing=True),
        "lambdas": tuple_of(number(0)),
        "n_train": integer(1, 2159),  # the rows left after the 20% held out
        "lambda_draws": integer(1, 10**6),
        "smooth_degree": integer(1, 20),
        "smooth_lambdas": tuple_of(number(0)),
        "penalty_scale": number(0),
    }
    REQUIRES = (
        Requirement(
            ("lambda_draws", "replicates"),
            "lambda_draws must be at most replicates",
            lambda c: c.lambda_draws <= c.replicates,
        ),
    )


def _steps(values: np.ndarray) -> np.ndarray:
    return np.diff(np.asarray(values, dtype=float), axis=-1)


#: relative tolerance of the exact (float64 closed-form) monotonicity claims
EXACT_RTOL = 1e-9

CLAIMS = (
    Claim(
        "degree_train_falls",
        "1.9",
        "A more complex model fits the training data at least as well: the polynomials of degree 1–5 are nested "
        "and least squares minimizes the training MSE, so it cannot rise with the degree, on any draw of the rows "
        "(lecture, in average absolute error: 31.9, 15.4, 15.3, 14.9, 12.8).",
        lambda m: m["degree_train_mse_worst_rel_rise"] <= EXACT_RTOL,
        reads=("degree_train_mse_worst_rel_rise", "degree_1_train_mse", "degree_5_train_mse"),
        explain=lambda m: (
            f"Largest relative rise of the training MSE over the draws {m['degree_train_mse_worst_rel_rise']:+.1e}. "
            f"The average absolute error, which the fit does not minimize, rose at some degree in "
            f"{m['degree_train_mae_rose_draws']:.0f} of {m['draws']:.0f} draws."
        ),
    ),
    Claim(
        "degree_overfits",
        "1.9",
        "Too complex a model overfits: the highest degree's test error is far (> 2×, geometric mean over random "
        "draws of 10 training and 10 test rows) above the best lower degree's (lecture: 232.1 at degree 5 vs "
        "18.1 at degree 3).",
        reads=("degree_top_over_best_geomean", "degree_top_over_best_median", "degree_test_outside_fraction"),
        effect="log10_top_over_best_lower_minus_log10_2",
        tests=4,
        control={"n_small": 100},
        explain=lambda m: (
            f"Test MAE of degree 5 over the best of degrees 1–4: geometric mean {m['degree_top_over_best_geomean']:.3g}"
            f"×, median {m['degree_top_over_best_median']:.3g}× over the draws; "
            f"{m['degree_test_outside_fraction']:.0%} of test rows lie outside their draw's training range."
        ),
    ),
    Claim(
        "lambda_train_grows",
        "1.9",
        "With L + λΣwᵢ², training error grows with λ: for a penalized least-squares fit the training MSE cannot "
        "fall as λ grows, on any draw (lecture, in average absolute error: 1.9 → 8.5 for λ = 0 … 100000).",
        lambda m: m["lambda_train_mse_worst_rel_fall"] <= EXACT_RTOL,
        reads=("lambda_train_mse_worst_rel_fall", "lambda_0_train_mse", "lambda_100000_train_mse"),
        explain=lambda m: (
            f"Largest relative fall of the training MSE over the draws {m['lambda_train_mse_worst_rel_fall']:+.1e}; "
            f"the average absolute error fell at some λ in {m['lambda_train_mae_fell_draws']:.0f} of "
            f"{m['lambda_draws']:.0f} draws."
        ),
    ),
    Claim(
        "lambda_test_u_shape",
        "1.9",
        "Test error first falls with λ, then rises once the function is too smooth: an intermediate λ beats both "
        "λ = 0 and the largest λ on random draws of the rows (lecture: 102.3 at λ = 0, 11.1 at λ = 100, 26.8 at "
        "λ = 100000).",
        reads=("lambda_test_best_interior_draws", "best_lambda", "lambda_0_test_mae", "lambda_best_test_mae"),
        effect="log10_u_shape_margin",
        tests=5,
        control={"penalty_scale": 0.0},
    ),
    Claim(
        "larger_lambda_smaller_weights",
        "1.9",
        "Larger λ shrinks the weights: the degree-5 fit's ‖w‖ cannot grow with λ, on any draw.",
        lambda m: m["smooth_norm_worst_rel_rise"] <= EXACT_RTOL,
        reads=("smooth_norm_worst_rel_rise", "smooth_norm_first", "smooth_norm_last"),
    ),
    Claim(
        "larger_lambda_smoother",
        "1.9",
        "Larger λ gives a smoother function: the degree-5 fit's total variation over the training range is "
        "smaller at the largest λ than at λ = 0 (log ratio over random draws).",
        reads=("smooth_tv_first", "smooth_tv_last", "smooth_tv_every_step_draws"),
        effect="log10_tv_first_over_last",
        control={"penalty_scale": 0.0},
        explain=lambda m: (
            f"Median total variation {m['smooth_tv_first']:.3g} at λ = 0 and {m['smooth_tv_last']:.3g} at the "
            f"largest λ; it fell at every step of λ in {m['smooth_tv_every_step_draws']:.0f} of {m['draws']:.0f} "
            "draws."
        ),
    ),
)


def _ridge(f: jax.Array, y: jax.Array, lam: float) -> dict[str, jax.Array]:
    """Closed-form ridge fits of every draw at once: f (R, N, D), y (R, N)."""
    return jax.vmap(lambda a, b: models.least_squares(a, b, l2=lam))(f, y)


def _predict(params: dict[str, jax.Array], f: Any) -> np.ndarray:
    """Every draw's predictions b + fᵀw, f (R, N, D), in NumPy (float64)."""
    return np.matmul(np.asarray(f), np.asarray(params["w"]))[..., 0] + np.asarray(params["b"])


def compute(config: Config) -> Result:
    ds = data.load("covid")
    if config.feature_1d not in ds.feature_names:
        raise ValueError(f"feature_1d must be a COVID feature name, got {config.feature_1d!r}")
    r_count, n_rows = config.replicates, len(ds.y)
    keys = jax.random.split(jax.random.PRNGKey(config.seed), r_count)
    lambdas = [config.penalty_scale * lam for lam in config.lambdas]
    smooth_lambdas = [config.penalty_scale * lam for lam in config.smooth_lambdas]
    with jax.enable_x64(True):  # closed-form fits of degree-5 features need float64's precision
        # 1. The lecture's setting: per draw, 10 training and 10 test rows of one input, polynomial degree 1–5.
        col = ds.feature_names.index(config.feature_1d)
        perm = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, n_rows))(keys))
        tr, te = perm[:, : config.n_small], perm[:, config.n_small : 2 * config.n_small]
        raw_tr, raw_te = ds.x[tr, col], ds.x[te, col]
        mean, std = raw_tr.mean(1, keepdims=True), raw_tr.std(1, keepdims=True)
        x_tr, x_te = (raw_tr - mean) / std, (raw_te - mean) / std  # standardized by each draw's training rows
        y_tr, y_te = ds.y[tr], ds.y[te]
        lo, hi = min(x_tr[0].min(), x_te[0].min()), max(x_tr[0].max(), x_te[0].max())
        grid = np.linspace(lo, hi, 300)
        deg_train_mae, deg_test_mae, deg_train_mse, fits = [], [], [], {}
        for d in config.degrees:
            f_tr = jax.vmap(lambda x, d=d: models.polynomial_features(x, d))(jnp.asarray(x_tr))
            f_te = jax.vmap(lambda x, d=d: models.polynomial_features(x, d))(jnp.asarray(x_te))
            params = _ridge(f_tr, jnp.asarray(y_tr), 0.0)
            p_tr, p_te = _predict(params, f_tr), _predict(params, f_te)
            deg_train_mae.append(np.mean(np.abs(p_tr - y_tr), 1))
            deg_test_mae.append(np.mean(np.abs(p_te - y_te), 1))
            deg_train_mse.append(np.mean((p_tr - y_tr) ** 2, 1))
            first = {"w": params["w"][0], "b": params["b"][0]}
            fits[f"degree {d}"] = np.asarray(models.polynomial(d).apply(first, grid))
        deg_train_mae, deg_test_mae, deg_train_mse = (np.stack(a, 1) for a in (deg_train_mae, deg_test_mae,
                                                                               deg_train_mse))  # (R, degrees)
        outside = np.mean((x_te < x_tr.min(1, keepdims=True)) | (x_te > x_tr.max(1, keepdims=True)))

        # 2. L + λΣw² over all 116 raw features with 100 training rows (closed form; biases unpenalized),
        #    tested on the held-out 20% of the file: a model with more parameters than rows, like the lecture's
        #    "full model" whose λ = 0 training error was 1.9 and test error 102.3.
        n_test = int(round(0.2 * n_rows))
        keys2 = keys[: config.lambda_draws]
        perm2 = np.asarray(jax.vmap(lambda k: jax.random.permutation(jax.random.fold_in(k, 1), n_rows))(keys2))
        rows_a, rows_b = perm2[:, : config.n_train], perm2[:, n_rows - n_test :]
        xa, ya, xb, yb = ds.x[rows_a], ds.y[rows_a], ds.x[rows_b], ds.y[rows_b]
        lam_train_mae, lam_test_mae, lam_train_mse, lam_norm = [], [], [], []
        xa_dev, ya_dev = jnp.asarray(xa), jnp.asarray(ya)
        for lam in lambdas:
            params = _ridge(xa_dev, ya_dev, lam)
            p_a, p_b = _predict(params, xa), _predict(params, xb)
            lam_train_mae.append(np.mean(np.abs(p_a - ya), 1))
            lam_test_mae.append(np.mean(np.abs(p_b - yb), 1))
            lam_train_mse.append(np.mean((p_a - ya) ** 2, 1))
            lam_norm.append(np.linalg.norm(np.asarray(params["w"])[..., 0], axis=1))
        lam_train_mae, lam_test_mae, lam_train_mse, lam_norm = (
            np.stack(a, 1) for a in (lam_train_mae, lam_test_mae, lam_train_mse, lam_norm)
        )

        # 3. Larger λ, smoother function: the degree-5 polynomial of part 1 under growing λ (same rows).
        feats = jax.vmap(lambda x: models.polynomial_features(x, config.smooth_degree))(jnp.asarray(x_tr))
        inside = np.linspace(x_tr.min(1), x_tr.max(1), 300, axis=1)  # (R, 300): each draw's training range
        f_inside = jax.vmap(lambda x: models.polynomial_features(x, config.smooth_degree))(jnp.asarray(inside))
        poly = models.polynomial(config.smooth_degree)
        tv, s_norm, s_train, s_test, smooth = [], [], [], [], {}
        f_te5 = jax.vmap(lambda x: models.polynomial_features(x, config.smooth_degree))(jnp.asarray(x_te))
        for lam, shown in zip(smooth_lambdas, config.smooth_lambdas):
            params = _ridge(feats, jnp.asarray(y_tr), lam)
            tv.append(np.sum(np.abs(np.diff(_predict(params, f_inside), axis=1)), 1))
            s_norm.append(np.linalg.norm(np.asarray(params["w"])[..., 0], axis=1))
            s_train.append(np.mean(np.abs(_predict(params, feats) - y_tr), 1))
            s_test.append(np.mean(np.abs(_predict(params, f_te5) - y_te), 1))
            first = {"w": params["w"][0], "b": params["b"][0]}
            smooth[f"λ = {config.penalty_scale * shown:g}"] = np.asarray(poly.apply(first, inside[0]))
        tv, s_norm, s_train, s_test = (np.stack(a, 1) for a in (tv, s_norm, s_train, s_test))

    # Per-draw effects (positive: the claim holds on that draw) and the exact claims' worst cases.
    best_lower = deg_test_mae[:, :-1].min(1)
    top_over_best = deg_test_mae[:, -1] / best_lower
    interior = lam_test_mae[:, 1:-1].min(1)
    u_margin = np.minimum(np.log10(lam_test_mae[:, 0] / interior), np.log10(lam_test_mae[:, -1] / interior))
    median_test = np.median(lam_test_mae, 0)
    i_best = int(np.argmin(median_test))
    best_lambda = lambdas[i_best]
    tv_ratio = np.log10(tv[:, 0] / tv[:, -1])
    top = config.degrees[-1]
    rel = lambda steps, base: float(np.max(steps / np.maximum(base, 1e-300)))  # noqa: E731
    metrics = {
        "draws": float(r_count),
        "lambda_draws": float(len(keys2)),  # setting 2's draws, the first lambda_draws of them
        **{f"degree_{d}_train_mae": float(np.median(deg_train_mae[:, i])) for i, d in enumerate(config.degrees)},
        **{f"degree_{d}_test_mae": float(np.median(deg_test_mae[:, i])) for i, d in enumerate(config.degrees)},
        **{f"degree_{d}_train_mse": float(np.median(deg_train_mse[:, i])) for i, d in enumerate(config.degrees)},
        **{f"lambda_{lam:g}_train_mae": float(np.median(lam_train_mae[:, i])) for i, lam in enumerate(lambdas)},
        **{f"lambda_{lam:g}_test_mae": float(median_test[i]) for i, lam in enumerate(lambdas)},
        **{f"lambda_{lam:g}_train_mse": float(np.median(lam_train_mse[:, i])) for i, lam in enumerate(lambdas)},
        "degree_train_mse_worst_rel_rise": rel(_steps(deg_train_mse), deg_train_mse[:, :-1]),
        "degree_train_mae_rose_draws": float(np.sum(np.any(_steps(deg_train_mae) > 0, 1))),
        "degree_top_over_best_geomean": float(10 ** np.mean(np.log10(top_over_best))),
        "degree_top_over_best_median": float(np.median(top_over_best)),
        "degree_test_outside_fraction": float(outside),
        "lambda_train_mse_worst_rel_fall": rel(-_steps(lam_train_mse), lam_train_mse[:, 1:]),
        "lambda_train_mae_fell_draws": float(np.sum(np.any(_steps(lam_train_mae) < 0, 1))),
        "lambda_test_best_interior_draws": float(np.sum(u_margin > 0)),
        "best_lambda": float(best_lambda),
        "lambda_best_test_mae": float(median_test[i_best]),
        "smooth_norm_worst_rel_rise": rel(_steps(s_norm), s_norm[:, :-1]),
        "smooth_norm_first": float(np.median(s_norm[:, 0])),
        "smooth_norm_last": float(np.median(s_norm[:, -1])),
        "smooth_tv_first": float(np.median(tv[:, 0])),
        "smooth_tv_last": float(np.median(tv[:, -1])),
        "smooth_tv_every_step_draws": float(np.sum(np.all(_steps(tv) < 0, 1))),
    }
    replicates = {
        "log10_top_over_best_lower_minus_log10_2": np.log10(top_over_best) - np.log10(2.0),
        "log10_u_shape_margin": u_margin,
        "log10_tv_first_over_last": tv_ratio,
    }
    lecture = {
        **{
            f"degree_{d}_{s}_mae": LECTURE_DEGREE[s][i]
            for i, d in enumerate(config.degrees[:5])
            for s in ("train", "test")
        },
        **{
            f"lambda_{lam:g}_{s}_mae": LECTURE_LAMBDA[s][i]
            for i, lam in enumerate(config.lambdas[:7])
            for s in ("train", "test")
        },
    }
    lecture = {k: v for k, v in lecture.items() if k in metrics}
    q = lambda a: f"{np.median(a):.3g} ({np.quantile(a, 0.25):.3g}–{np.quantile(a, 0.75):.3g})"  # noqa: E731
    deg_table = table(
        ["degree", "train MSE", "train MAE", "test MAE", "train (lecture)", "test (lecture)"],
        [
            [d, q(deg_train_mse[:, i]), q(deg_train_mae[:, i]), q(deg_test_mae[:, i]),
             *(LECTURE_DEGREE[s][i] if i < 5 else "—" for s in ("train", "test"))]
            for i, d in enumerate(config.degrees)
        ],
    )  # fmt: skip
    lam_table = table(
        ["λ", "train MSE", "train MAE", "test MAE", "‖w‖", "train (lecture)", "test (lecture)"],
        [
            [f"{lam:.10g}", q(lam_train_mse[:, i]), q(lam_train_mae[:, i]), q(lam_test_mae[:, i]), q(lam_norm[:, i]),
             *(LECTURE_LAMBDA[s][i] if i < 7 else "—" for s in ("train", "test"))]
            for i, lam in enumerate(lambdas)
        ],
    )  # fmt: skip
    smooth_table = table(
        ["λ", "train MAE", "test MAE", "total variation of the fit", "‖w‖"],
        [
            [f"{lam:.10g}", q(s_train[:, i]), q(s_test[:, i]), q(tv[:, i]), q(s_norm[:, i])]
            for i, lam in enumerate(smooth_lambdas)
        ],
    )
    setting_1 = (
        f"Setting 1 (lecture's): {config.n_small} training and {config.n_small} test rows of `covid.train.csv`, one "
        f"input (`{config.feature_1d}`, standardized), polynomial of degree {config.degrees[0]}–{top} by closed-form "
        "least squares"
    )
    setting_2 = (
        f"Setting 2: all {xa.shape[2]} raw features, {config.n_train} training rows, {n_test} held-out rows, ridge "
        "least squares min mean(b + xᵀw − y)² + λ‖w‖² in closed form"
    )
    lams = ", ".join(f"{lam:g}" for lam in smooth_lambdas)
    setting_3 = f"Setting 3: setting 1's rows, degree {config.smooth_degree}, ridge λ ∈ {{{lams}}}"
    penalty = "" if config.penalty_scale == 1 else f" (every λ scaled by {config.penalty_scale:g})"
    summary = (
        "The lecture's Pokémon CP data are not public in its form, so we compare *shapes* on `covid.train.csv` "
        f"(average absolute error, as the lecture), over {r_count} random draws of the rows (setting 2: the first "
        f"{len(keys2)}){penalty}; tables give "
        "the median (interquartile range) over the draws, figures the first draw.\n\n"
        f"- {setting_1}: training MSE {np.median(deg_train_mse[:, 0]):.3g} → {np.median(deg_train_mse[:, -1]):.3g} "
        f"(median), never rising on any draw (largest relative step "
        f"{metrics['degree_train_mse_worst_rel_rise']:+.1e}); the training MAE rose at some degree in "
        f"{int(metrics['degree_train_mae_rose_draws'])} of {r_count} draws. Degree {top}'s test MAE over the best "
        f"of the lower degrees: geometric mean {metrics['degree_top_over_best_geomean']:.3g}×, median "
        f"{metrics['degree_top_over_best_median']:.3g}× ({np.min(top_over_best):.3g}× to {np.max(top_over_best):.3g}×; "
        f"{outside:.0%} of test rows lie outside their draw's training range).\n"
        f"- {setting_2}: median training MAE {np.median(lam_train_mae[:, 0]):.3g} at λ = {lambdas[0]:g} → "
        f"{np.median(lam_train_mae[:, -1]):.3g} at λ = {lambdas[-1]:g}; median test MAE {median_test[0]:.3g} at "
        f"λ = {lambdas[0]:g}, lowest at λ = {best_lambda:g} ({median_test[i_best]:.3g}), {median_test[-1]:.3g} at "
        f"λ = {lambdas[-1]:g}; an intermediate λ beat both ends in {int(np.sum(u_margin > 0))} of {len(keys2)} draws.\n"
        f"- {setting_3}: the fit's total variation over the training range goes {np.median(tv[:, 0]):.3g} → "
        f"{np.median(tv[:, -1]):.3g} (median; lower at the largest λ in {int(np.sum(tv_ratio > 0))} of {r_count} "
        f"draws, falling at every step in {int(metrics['smooth_tv_every_step_draws'])}); ‖w‖ "
        f"{metrics['smooth_norm_first']:.3g} → {metrics['smooth_norm_last']:.3g}."
    )
    return Result(
        title=(
            f"Polynomial degree and L2 regularization: degree {top} test error "
            f"{metrics['degree_top_over_best_geomean']:.1f}× the best lower degree's (geometric mean of {r_count} "
            f"draws); test error best at λ = {best_lambda:g}"
        ),
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        replicates=replicates,
        tables={
            f"{setting_1} (median and interquartile range over {r_count} draws; lecture: Pokémon CP, MAE)": deg_table,
            f"{setting_2} (median and interquartile range over {len(keys2)} draws; lecture: its full Pokémon "
            "model, MAE)": lam_table,
            f"{setting_3} (median and interquartile range)": smooth_table,
        },
        data={
            "degree_train_mae": deg_train_mae,
            "degree_test_mae": deg_test_mae,
            "degree_train_mse": deg_train_mse,
            "lambdas": lambdas,
            "lambda_train_mae": lam_train_mae,
            "lambda_test_mae": lam_test_mae,
            "lambda_train_mse": lam_train_mse,
            "lambda_norm": lam_norm,
            "smooth_norm": s_norm,
            "tv": tv,
            "rows_small": (tr, te),
            "rows_lambda": (rows_a, rows_b),
            "grid": grid * std[0, 0] + mean[0, 0],
            "inside": inside[0] * std[0, 0] + mean[0, 0],
            "fits": fits,
            "smooth": smooth,
            "train_points": (raw_tr[0], y_tr[0]),
            "test_points": (raw_te[0], y_te[0]),
            "config": config,
            "n_features": xa.shape[2],
        },
    )


def _fits_panel(d: dict[str, Any], x: np.ndarray, curve: np.ndarray, label: str, color: str, xlabel: str) -> Any:
    """The first draw's training and test rows with one fitted curve. The axes are scaled to hold the whole
    curve and every point (a wild fit shows how wild it is instead of leaving the frame)."""

    def draw(ax: Any) -> None:
        (xt, yt), (xv, yv) = d["train_points"], d["test_points"]
        ax.plot(x, curve, color=color, label=label)
        ax.scatter(xt, yt, s=30, color="black", zorder=3, label="training rows")
        ax.scatter(xv, yv, s=40, facecolors="none", edgecolors="red", zorder=3, label="test rows")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("tested_positive (day 5)")

    return draw


def _spread_panel(
    xs: list[str], series: dict[str, np.ndarray], xlabel: str, ylabel: str, logy: bool = True
) -> Any:
    """Median over the draws (line) and interquartile range (band) of per-draw errors (R, len(xs))."""

    def draw(ax: Any) -> None:
        pos = np.arange(len(xs))
        for i, (label, v) in enumerate(series.items()):
            marker = "os^D"[i % 4]
            ax.plot(pos, np.median(v, 0), marker=marker, linestyle="-" if i == 0 else "--", color=f"C{i}",
                    label=f"{label}, median")  # fmt: skip
            ax.fill_between(pos, np.quantile(v, 0.25, 0), np.quantile(v, 0.75, 0), color=f"C{i}", alpha=0.2,
                            label=f"{label}, interquartile range")  # fmt: skip
        ax.set_xticks(pos, xs)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)

    return draw


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    c = d["config"]
    m = result.metrics
    r_count = len(d["degree_test_mae"])
    fits = d["fits"]
    fig_deg = plot.panels(
        out / "polynomial_fits.png",
        [
            _fits_panel(d, d["grid"], curve, label, f"C{i}", c.feature_1d)
            for i, (label, curve) in enumerate(fits.items())
        ],
        titles=[
            f"{label}: test MAE {d['degree_test_mae'][0, i]:.3g}" for i, label in enumerate(fits)
        ],
        suptitle=f"First draw: {c.n_small} training rows (black), {c.n_small} test rows (red), one fit per panel",
        ncols=3,
        shared_legend=True,
    )
    degrees = [str(deg) for deg in c.degrees]
    fig_deg_err = plot.panels(
        out / "error_vs_degree.png",
        [_spread_panel(degrees, {"train": d["degree_train_mae"], "test": d["degree_test_mae"]},
                       "polynomial degree", "MAE (log)")],  # fmt: skip
        titles=[
            f"degree {degrees[-1]}'s test MAE is {m['degree_top_over_best_geomean']:.1f}× the best lower degree's "
            "(geometric mean)"
        ],
        suptitle=f"Setting 1 over {r_count} draws of {c.n_small} + {c.n_small} rows",
        ncols=1,
        panel_size=(6.4, 4.2),
        legend_loc="outside",
    )
    lams = [f"{lam:g}" for lam in d["lambdas"]]
    fig_lam = plot.panels(
        out / "error_vs_lambda.png",
        # linear axis: λ = 0 interpolates (training MAE ≈ 1e-14), a log axis would spend its height on that
        [_spread_panel(lams, {"train": d["lambda_train_mae"], "test": d["lambda_test_mae"]}, "λ", "MAE", logy=False)],
        titles=[f"median test MAE lowest at λ = {m['best_lambda']:g}"],
        suptitle=f"Setting 2 ({d['n_features']} features, {c.n_train} rows) over {len(d['lambda_test_mae'])} draws",
        ncols=1,
        panel_size=(6.4, 4.2),
        legend_loc="outside",
    )

    def draw_smooth(ax: Any) -> None:
        xt, yt = d["train_points"]
        for i, (label, curve) in enumerate(d["smooth"].items()):
            ax.plot(d["inside"], curve, color=f"C{i}", linestyle=["-", "--", "-.", ":"][i % 4], label=label)
        ax.scatter(xt, yt, s=30, color="black", zorder=3, label="training rows")
        ax.set_xlabel(c.feature_1d)
        ax.set_ylabel("tested_positive (day 5)")

    tv0 = d["tv"][0]
    fig_smooth = plot.panels(
        out / "smoothness.png",
        [draw_smooth],
        titles=[f"first draw, degree {c.smooth_degree}; total variation {tv0[0]:.3g} → {tv0[-1]:.3g}"],
        suptitle="Setting 3: larger λ, smoother function (over the training range)",
        ncols=1,
        panel_size=(6.4, 4.6),
        legend_loc="outside",
    )
    return [fig_deg, fig_deg_err, fig_lam, fig_smooth]
