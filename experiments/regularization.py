"""Model complexity and L2 regularization: polynomial degree 1–5 and the λ sweep 0…100000, lecture beside
ours (SCOPE §1.9)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import data, losses, models, plot
from jaxml.report import ExperimentConfig, Result, table

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
    smooth_lambdas: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0)


def main(config: Config) -> Result:
    out = config.out_dir("regularization")
    key = jax.random.PRNGKey(config.seed)
    ds = data.load("covid")
    with jax.enable_x64(True):  # closed-form fits of degree-5 features need float64's precision
        # 1. The lecture's setting: 10 training and 10 testing examples of one input, polynomial degree 1–5.
        col = ds.feature_names.index(config.feature_1d)
        perm = np.asarray(jax.random.permutation(key, len(ds.y)))
        tr, te = perm[: config.n_small], perm[config.n_small : 2 * config.n_small]
        scaler = data.fit_standardizer(ds.x[tr, col])
        x_tr, x_te = scaler.transform(ds.x[tr, col][:, None])[:, 0], scaler.transform(ds.x[te, col][:, None])[:, 0]
        y_tr, y_te = ds.y[tr], ds.y[te]
        degree_rows, fits = [], {}
        grid = np.linspace(x_tr.min() - 0.2, x_tr.max() + 0.2, 300)
        for d in config.degrees:
            model = models.polynomial(d)
            params = models.least_squares(models.polynomial_features(x_tr, d), jnp.asarray(y_tr))
            tr_err = float(losses.mae(model.apply(params, x_tr), y_tr))
            te_err = float(losses.mae(model.apply(params, x_te), y_te))
            degree_rows.append((d, tr_err, te_err))
            fits[f"degree {d}"] = (scaler.inverse(grid[:, None])[:, 0], np.asarray(model.apply(params, grid)))

        # 2. L + λΣw² over all 116 raw features with 100 training rows (closed form; biases unpenalized).
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

        # 3. Larger λ, smoother function: degree-5 fits of the 10 points under growing λ.
        smooth = {}
        feats = models.polynomial_features(x_tr, 5)
        for lam in config.smooth_lambdas:
            params = models.least_squares(feats, jnp.asarray(y_tr), l2=lam)
            smooth[f"λ = {lam:g}"] = (
                scaler.inverse(grid[:, None])[:, 0],
                np.asarray(models.polynomial(5).apply(params, grid)),
            )

    fig_deg = plot.fitted_functions(
        out / "polynomial_fits.png",
        ds.x[tr, col],
        y_tr,
        fits,
        title=f"Degree 1–5 fits on {config.n_small} training rows",
        xlabel=config.feature_1d,
        ylabel="tested_positive (day 5)",
        data_label="training rows",
    )
    degrees = [r[0] for r in degree_rows]
    fig_deg_err = plot.train_test(
        out / "error_vs_degree.png",
        degrees,
        [r[1] for r in degree_rows],
        [r[2] for r in degree_rows],
        title="Average absolute error against polynomial degree",
        xlabel="degree",
        ylabel="MAE",
        logy=True,
    )
    lam_labels = [f"{r[0]:g}" for r in lambda_rows]
    fig_lam = plot.train_test(
        out / "error_vs_lambda.png",
        [r[0] for r in lambda_rows],
        [r[1] for r in lambda_rows],
        [r[2] for r in lambda_rows],
        title=f"λ sweep: 116 features, {config.n_train} training rows",
        xlabel="λ",
        ylabel="MAE",
        xticklabels=lam_labels,
    )
    fig_smooth = plot.fitted_functions(
        out / "smoothness.png",
        ds.x[tr, col],
        y_tr,
        smooth,
        title="Degree 5: larger λ, smoother function",
        xlabel=config.feature_1d,
        ylabel="tested_positive (day 5)",
        data_label="training rows",
    )
    best_lambda = lambda_rows[int(np.argmin([r[2] for r in lambda_rows]))][0]
    metrics = {
        **{f"degree_{d}_train_mae": t for d, t, _ in degree_rows},
        **{f"degree_{d}_test_mae": v for d, _, v in degree_rows},
        **{f"lambda_{lam:g}_train_mae": t for lam, t, _, _ in lambda_rows},
        **{f"lambda_{lam:g}_test_mae": v for lam, _, v, _ in lambda_rows},
        "best_lambda": float(best_lambda),
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
    deg_table = table(
        ["degree", "train (ours)", "test (ours)", "train (lecture)", "test (lecture)"],
        [[d, t, v, LECTURE_DEGREE["train"][i], LECTURE_DEGREE["test"][i]] for i, (d, t, v) in enumerate(degree_rows)],
    )
    lam_table = table(
        ["λ", "train (ours)", "test (ours)", "‖w‖ (ours)", "train (lecture)", "test (lecture)"],
        [
            [f"{lam:g}", t, v, w, LECTURE_LAMBDA["train"][i], LECTURE_LAMBDA["test"][i]]
            for i, (lam, t, v, w) in enumerate(lambda_rows)
        ],
    )
    return Result(
        title="Polynomial degree and L2 regularization",
        summary=(
            "The lecture's Pokémon CP data are not public in its form, so we compare *shapes* on `covid.train.csv` "
            f"(average absolute error, as the lecture). With {config.n_small} training rows of one input "
            f"(`{config.feature_1d}`), a higher degree roughly keeps lowering the training error but eventually "
            "raises the test error — overfitting. In the λ sweep training error grows with λ while test error "
            f"first falls (best at λ = {best_lambda:g}) then rises as the model underfits — the lecture's U shape; ‖w‖ "
            "shrinks with λ, i.e. a smoother function."
        ),
        metrics=metrics,
        lecture=lecture,
        tables={"Polynomial degree (MAE)": deg_table, "λ sweep (MAE)": lam_table},
        figures=[str(f) for f in (fig_deg, fig_deg_err, fig_lam, fig_smooth)],
        data={"degree_rows": degree_rows, "lambda_rows": lambda_rows},
    )
