"""Model complexity and L2 regularization: polynomial degree 1–5 and the λ sweep 0…100000, lecture beside
ours (SCOPE §1.9)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import data, losses, models, plot
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Polynomial degree 1–5 (10 train / 10 test) and the λ sweep 0…1e5 on COVID HW1, beside the lecture"
SECTION = "1.9"

#: SCOPE §1.9, the lecture's Pokémon CP tables (average absolute error).
LECTURE_DEGREE = {"train": (31.9, 15.4, 15.3, 14.9, 12.8), "test": (35.0, 18.4, 18.1, 28.2, 232.1)}
LECTURE_LAMBDA = {"train": (1.9, 2.3, 3.5, 4.1, 5.6, 6.3, 8.5), "test": (102.3, 68.7, 25.7, 11.1, 12.8, 18.7, 26.8)}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    feature_1d: str = "cli_d5"
    n_small: int = 10
    degrees: tuple[int, ...] = (1, 2, 3, 4, 5)
    lambdas: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)
    n_train: int = 100
    smooth_degree: int = 5
    smooth_lambdas: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0, 10.0)

    # Everything is closed form and takes a second: the quick run is the full run.
    QUICK = {}


def _steps(values: list[float]) -> np.ndarray:
    return np.diff(np.asarray(values, dtype=float))


CLAIMS = (
    Claim(
        "degree_train_falls",
        "1.9",
        "A more complex model (higher polynomial degree) fits the training data at least as well (lecture, degree "
        "1–5: training error 31.9, 15.4, 15.3, 14.9, 12.8).",
        lambda m: m["degree_train_worst_rise"] <= 0.0,
        reads=("degree_train_worst_rise", "degree_1_train_mae", "degree_5_train_mae", "degree_train_mse_worst_rise"),
        expected=False,
        explain=lambda m: (
            f"Least squares minimizes the squared error, and the training MSE of these nested models "
            f"{'never rises' if m['degree_train_mse_worst_rise'] <= 1e-9 else 'rises'} with the degree (largest step "
            f"{m['degree_train_mse_worst_rise']:+.3g}); the average absolute error it is reported in can still tick "
            f"up by {m['degree_train_worst_rise']:.3g} at some degree."
        ),
    ),
    Claim(
        "degree_overfits",
        "1.9",
        "Too complex a model overfits: the highest degree's test error is far (> 2×) above the best degree's "
        "(lecture: 232.1 at degree 5 vs 18.1 at degree 3).",
        lambda m: m["degree_top_test_over_best"] > 2.0,
        reads=("degree_top_test_over_best", "degree_best_test", "degree_5_test_mae"),
    ),
    Claim(
        "lambda_train_grows",
        "1.9",
        "With L + λΣwᵢ², training error grows with λ (lecture: 1.9 → 8.5 for λ = 0 … 100000).",
        lambda m: m["lambda_train_smallest_rise"] >= 0.0,
        reads=("lambda_train_smallest_rise", "lambda_0_train_mae", "lambda_100000_train_mae"),
    ),
    Claim(
        "lambda_test_u_shape",
        "1.9",
        "Test error first falls with λ, then rises once the function is too smooth: best at an intermediate λ "
        "(lecture: 102.3 at λ = 0, 11.1 at λ = 100, 26.8 at λ = 100000).",
        lambda m: m["lambda_test_min_interior"] > 0.5,
        reads=("lambda_test_min_interior", "best_lambda", "lambda_0_test_mae", "lambda_best_test_mae"),
    ),
    Claim(
        "larger_lambda_smoother",
        "1.9",
        "Larger λ gives a smoother function: the degree-5 fit's total variation over the data range falls with "
        "every larger λ, and ‖w‖ shrinks.",
        lambda m: m["smooth_tv_worst_rise"] < 0.0 and m["lambda_norm_worst_rise"] < 0.0,
        reads=("smooth_tv_worst_rise", "smooth_tv_first", "smooth_tv_last", "lambda_norm_worst_rise"),
    ),
)


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    ds = data.load("covid")
    if config.feature_1d not in ds.feature_names:
        raise ValueError(f"feature_1d must be a COVID feature name, got {config.feature_1d!r}")
    with jax.enable_x64(True):  # closed-form fits of degree-5 features need float64's precision
        # 1. The lecture's setting: 10 training and 10 testing examples of one input, polynomial degree 1–5.
        col = ds.feature_names.index(config.feature_1d)
        perm = np.asarray(jax.random.permutation(key, len(ds.y)))
        tr, te = perm[: config.n_small], perm[config.n_small : 2 * config.n_small]
        scaler = data.fit_standardizer(ds.x[tr, col])
        x_tr, x_te = scaler.transform(ds.x[tr, col][:, None])[:, 0], scaler.transform(ds.x[te, col][:, None])[:, 0]
        y_tr, y_te = ds.y[tr], ds.y[te]
        degree_rows, fits, degree_mse = [], {}, []
        lo, hi = min(x_tr.min(), x_te.min()), max(x_tr.max(), x_te.max())
        grid = np.linspace(lo, hi, 300)
        for d in config.degrees:
            model = models.polynomial(d)
            params = models.least_squares(models.polynomial_features(x_tr, d), jnp.asarray(y_tr))
            tr_err = float(losses.mae(model.apply(params, x_tr), y_tr))
            te_err = float(losses.mae(model.apply(params, x_te), y_te))
            degree_rows.append((d, tr_err, te_err))
            degree_mse.append(float(losses.mse(model.apply(params, x_tr), y_tr)))
            fits[f"degree {d}"] = np.asarray(model.apply(params, grid))

        # 2. L + λΣw² over all 116 raw features with 100 training rows (closed form; biases unpenalized),
        #    tested on the held-out 20% of the file: a model with more parameters than rows, like the lecture's
        #    "full model" whose λ = 0 training error was 1.9 and test error 102.3.
        (xa, ya), (xb, yb) = data.train_test_split(ds.x, ds.y, key=jax.random.fold_in(key, 1))
        xa, ya = xa[: config.n_train], ya[: config.n_train]
        lin = models.linear(xa.shape[1])
        lambda_rows = []
        for lam in config.lambdas:
            params = models.least_squares(jnp.asarray(xa), jnp.asarray(ya), l2=lam)
            lambda_rows.append(
                (
                    lam,
                    float(losses.mae(lin.apply(params, xa), ya)),
                    float(losses.mae(lin.apply(params, xb), yb)),
                    float(jnp.linalg.norm(params["w"])),
                )
            )

        # 3. Larger λ, smoother function: the degree-5 polynomial of part 1 under growing λ (same 10 + 10 rows).
        smooth_rows, smooth = [], {}
        feats = models.polynomial_features(x_tr, config.smooth_degree)
        poly = models.polynomial(config.smooth_degree)
        inside = np.linspace(x_tr.min(), x_tr.max(), 300)
        for lam in config.smooth_lambdas:
            params = models.least_squares(feats, jnp.asarray(y_tr), l2=lam)
            smooth[f"λ = {lam:g}"] = np.asarray(poly.apply(params, grid))
            tv = float(np.sum(np.abs(np.diff(np.asarray(poly.apply(params, inside))))))
            smooth_rows.append(
                (
                    lam,
                    float(losses.mae(poly.apply(params, x_tr), y_tr)),
                    float(losses.mae(poly.apply(params, x_te), y_te)),
                    tv,
                    float(jnp.linalg.norm(params["w"])),
                )
            )

    deg_train = [r[1] for r in degree_rows]
    deg_test = [r[2] for r in degree_rows]
    best_degree = degree_rows[int(np.argmin(deg_test))][0]
    lam_train = [r[1] for r in lambda_rows]
    lam_test = [r[2] for r in lambda_rows]
    lam_norm = [r[3] for r in lambda_rows]
    i_best = int(np.argmin(lam_test))
    best_lambda = lambda_rows[i_best][0]
    tvs = [r[3] for r in smooth_rows]
    top = config.degrees[-1]
    metrics = {
        **{f"degree_{d}_train_mae": t for d, t, _ in degree_rows},
        **{f"degree_{d}_test_mae": v for d, _, v in degree_rows},
        **{f"lambda_{lam:g}_train_mae": t for lam, t, _, _ in lambda_rows},
        **{f"lambda_{lam:g}_test_mae": v for lam, _, v, _ in lambda_rows},
        "degree_train_worst_rise": float(np.max(_steps(deg_train))),
        "degree_train_mse_worst_rise": float(np.max(_steps(degree_mse))),
        "degree_best_test": float(min(deg_test)),
        "best_degree": float(best_degree),
        "degree_top_test_over_best": deg_test[-1] / min(deg_test),
        "lambda_train_smallest_rise": float(np.min(_steps(lam_train))),
        "lambda_test_min_interior": float(0 < i_best < len(lambda_rows) - 1),
        "best_lambda": float(best_lambda),
        "lambda_best_test_mae": float(lam_test[i_best]),
        "lambda_norm_worst_rise": float(np.max(_steps(lam_norm))),
        "smooth_tv_worst_rise": float(np.max(_steps(tvs))),
        "smooth_tv_first": tvs[0],
        "smooth_tv_last": tvs[-1],
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
    deg_table = table(
        ["degree", "train (ours)", "test (ours)", "train (lecture)", "test (lecture)"],
        [
            [d, t, v, *(LECTURE_DEGREE[s][i] if i < 5 else "—" for s in ("train", "test"))]
            for i, (d, t, v) in enumerate(degree_rows)
        ],
    )
    lam_table = table(
        ["λ", "train (ours)", "test (ours)", "‖w‖ (ours)", "train (lecture)", "test (lecture)"],
        [
            [f"{lam:.10g}", t, v, w, *(LECTURE_LAMBDA[s][i] if i < 7 else "—" for s in ("train", "test"))]
            for i, (lam, t, v, w) in enumerate(lambda_rows)
        ],
    )
    smooth_table = table(
        ["λ", "train MAE", "test MAE", "total variation of the fit", "‖w‖"],
        [[f"{lam:.10g}", t, v, tv, w] for lam, t, v, tv, w in smooth_rows],
    )
    n_test = len(yb)
    setting_1 = (
        f"Setting 1 (lecture's): {config.n_small} training and {config.n_small} test rows of `covid.train.csv`, one "
        f"input (`{config.feature_1d}`, standardized), polynomial of degree {config.degrees[0]}–{top} by closed-form "
        "least squares"
    )
    setting_2 = (
        f"Setting 2: all {xa.shape[1]} raw features, {config.n_train} training rows, {n_test} held-out rows, ridge "
        "least squares min mean(b + xᵀw − y)² + λ‖w‖² in closed form"
    )
    lams = ", ".join(f"{lam:g}" for lam in config.smooth_lambdas)
    setting_3 = f"Setting 3: setting 1's rows, degree {config.smooth_degree}, ridge λ ∈ {{{lams}}}"
    summary = (
        "The lecture's Pokémon CP data are not public in its form, so we compare *shapes* on `covid.train.csv` "
        "(average absolute error, as the lecture).\n\n"
        f"- {setting_1}: training MAE {deg_train[0]:.3g} → {deg_train[-1]:.3g} "
        f"({'never rising' if metrics['degree_train_worst_rise'] <= 0 else 'rising at some degree'}); test MAE lowest "
        f"at degree {best_degree} ({min(deg_test):.3g}) and {deg_test[-1]:.3g} at degree {top} "
        f"({metrics['degree_top_test_over_best']:.2f}× the best).\n"
        f"- {setting_2}: training MAE {lam_train[0]:.3g} at λ = 0 → {lam_train[-1]:.3g} at λ = {lambda_rows[-1][0]:g} "
        f"({'never falling' if metrics['lambda_train_smallest_rise'] >= 0 else 'falling at some λ'}); test MAE "
        f"{lam_test[0]:.3g} at λ = 0, lowest at λ = {best_lambda:g} ({lam_test[i_best]:.3g}), {lam_test[-1]:.3g} at "
        f"λ = {lambda_rows[-1][0]:g}; ‖w‖ {lam_norm[0]:.3g} → {lam_norm[-1]:.3g}.\n"
        f"- {setting_3}: the fit's total variation over the training range goes {tvs[0]:.3g} → {tvs[-1]:.3g} "
        + (
            "(falling with every larger λ: smoother)."
            if metrics["smooth_tv_worst_rise"] < 0
            else "(not falling at every step)."
        )
    )
    return Result(
        title=(
            f"Polynomial degree and L2 regularization: degree {top} test error "
            f"{metrics['degree_top_test_over_best']:.1f}× the best; test error best at λ = {best_lambda:g}"
        ),
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        tables={
            f"{setting_1} (MAE; lecture: Pokémon CP, 10 + 10 Pokémon)": deg_table,
            f"{setting_2} (MAE; lecture: its full Pokémon model)": lam_table,
            f"{setting_3}": smooth_table,
        },
        data={
            "degree_rows": degree_rows,
            "lambda_rows": lambda_rows,
            "smooth_rows": smooth_rows,
            "grid": scaler.inverse(grid[:, None])[:, 0],
            "fits": fits,
            "smooth": smooth,
            "train_points": (ds.x[tr, col], y_tr),
            "test_points": (ds.x[te, col], y_te),
            "config": config,
            "n_features": xa.shape[1],
        },
    )


def _fits_panel(d: dict[str, Any], curves: dict[str, np.ndarray], xlabel: str) -> Any:
    """Training and test points with fitted curves; y limits from the data, so a wild fit leaves the frame
    instead of flattening the points into a line."""

    def draw(ax: Any) -> None:
        (xt, yt), (xv, yv) = d["train_points"], d["test_points"]
        ys = np.r_[yt, yv]
        span = ys.max() - ys.min()
        for i, (label, yg) in enumerate(curves.items()):
            ax.plot(d["grid"], yg, color=f"C{i}", label=label)
        ax.scatter(xt, yt, s=30, color="black", zorder=3, label="training rows")
        ax.scatter(xv, yv, s=40, facecolors="none", edgecolors="red", zorder=3, label="test rows")
        ax.set_ylim(ys.min() - 0.4 * span, ys.max() + 0.4 * span)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("tested_positive (day 5)")

    return draw


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    c = d["config"]
    m = result.metrics
    fig_deg = plot.panels(
        out / "polynomial_fits.png",
        [_fits_panel(d, d["fits"], c.feature_1d)],
        titles=[f"{c.n_small} training rows (black), {c.n_small} test rows (red)"],
        suptitle=f"Polynomial fits of degree {c.degrees[0]}–{c.degrees[-1]}",
        ncols=1,
        panel_size=(6.4, 4.6),
        legend_loc="outside",
    )
    rows = d["degree_rows"]
    fig_deg_err = plot.train_test(
        out / "error_vs_degree.png",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        title=(
            f"Setting 1: test MAE lowest at degree {int(m['best_degree'])}; "
            f"degree {rows[-1][0]}'s is {m['degree_top_test_over_best']:.1f}× that"
        ),
        xticklabels=[str(r[0]) for r in rows],
        xlabel="polynomial degree",
        ylabel="MAE (log)",
        logy=True,
    )
    lam = d["lambda_rows"]
    fig_lam = plot.train_test(
        out / "error_vs_lambda.png",
        [r[0] for r in lam],
        [r[1] for r in lam],
        [r[2] for r in lam],
        title=f"Setting 2 ({d['n_features']} features, {c.n_train} rows): test best at λ = {m['best_lambda']:g}",
        xlabel="λ",
        ylabel="MAE",
        xticklabels=[f"{r[0]:g}" for r in lam],
    )
    fig_smooth = plot.panels(
        out / "smoothness.png",
        [_fits_panel(d, d["smooth"], c.feature_1d)],
        titles=[f"degree {c.smooth_degree}; total variation {m['smooth_tv_first']:.3g} → {m['smooth_tv_last']:.3g}"],
        suptitle="Setting 3: larger λ, smoother function",
        ncols=1,
        panel_size=(6.4, 4.6),
        legend_loc="outside",
    )
    return [fig_deg, fig_deg_err, fig_lam, fig_smooth]
