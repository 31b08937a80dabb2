"""A model with a condition: a linear model whose coefficients depend on a category (course §1.8)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, choice, flag, integer, number, table

DESCRIPTION = "y = Σₛ δ(state = s)(bₛ + wₛx) on COVID HW1 against one shared line; trained vs per-state lstsq"
SECTION = "1.8"

#: course §1.9: the lecture's species-conditioned model against a single line (average absolute error).
LECTURE = {
    "conditional_train_mae": 3.8,
    "conditional_test_mae": 14.3,
    "single_train_mae": 31.9,
    "single_test_mae": 35.0,
}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    feature: str = "cli_d5"
    epochs: int = 400
    batch_size: int = 64
    learning_rate: float = 0.05
    #: False is the negative control: every row in one category, so the "conditional" model is one shared line
    condition: bool = True

    QUICK = {"epochs": 100}

    DOMAINS = {
        "feature": choice(  # a daily feature: the 37 one-hot states come first
            lambda: data.load("covid").feature_names[37:],
            "a daily COVID feature name, e.g. 'cli_d5' (data.load('covid').feature_names[37:])",
        ),
        "epochs": integer(),
        "batch_size": integer(1, 2000),  # at most the training rows of a split
        "learning_rate": number(0),  # 0: the negative control (no training)
        "condition": flag(),
    }


CONTROL = {"condition": False}  # no category information: the conditional model is the shared line itself

CLAIMS = (
    Claim(
        "conditioning_lowers_train_error",
        "1.8",
        "A linear model whose coefficients depend on the category (y = Σₛ δ(x = s)(bₛ + wₛx)) fits the training "
        "data better than one shared line (lecture: average absolute error 31.9 → 3.8); paired, on each split.",
        reads=("single_train_mae", "conditional_train_mae", "train_ratio"),
        effect="train_mae_shared_minus_conditional",
        control=CONTROL,
    ),
    Claim(
        "conditioning_lowers_test_error",
        "1.8",
        "It also predicts unseen data better (lecture: test error 35.0 → 14.3); paired, on each split's test rows.",
        reads=("single_test_mae", "conditional_test_mae", "test_ratio"),
        effect="test_mae_shared_minus_conditional",
        control=CONTROL,
    ),
    Claim(
        "gain_larger_on_train",
        "1.8",
        "The lecture's shape: conditioning cuts the training error by a clearly larger factor than the test error "
        "(lecture ratios conditional/shared: train 3.8/31.9 = 0.12, test 14.3/35.0 = 0.41; here, per split, the "
        "test ratio must exceed 1.1 × the training ratio).",
        reads=("train_ratio", "test_ratio", "lecture_train_ratio", "lecture_test_ratio"),
        effect="test_ratio_minus_1_1_train_ratio",
        control=CONTROL,
        expected=False,
        explain=lambda m: (
            f"Mean ratios over the splits: train {m['train_ratio']:.3f}, test {m['test_ratio']:.3f} (lecture "
            f"{m['lecture_train_ratio']:.2f}, {m['lecture_test_ratio']:.2f}). With {m['n_train']:.0f} training rows "
            f"for {m['n_params']:.0f} parameters the per-state lines cannot overfit, so the gain carries over to the "
            "test set almost unchanged; the lecture's 10 Pokémon per model could."
        ),
    ),
    Claim(
        "trained_reaches_closed_form",
        "1.3",
        "Trained by gradient descent (minibatch Adam) on the MSE, the conditional model reaches its closed-form "
        "least-squares optimum (per-state lstsq): training MSE within 1% on each split (effect: 1% − the gap).",
        reads=("conditional_mse_trained", "conditional_mse_closed_form", "closed_form_worst_gap"),
        effect="one_percent_minus_closed_form_gap",
        control={"learning_rate": 0.0},  # no gradient steps: the model stays at its zero init
    ),
)


def _splits(config: Config, ds: data.Dataset) -> dict[str, np.ndarray]:
    """One random train/test split per replicate, stacked on a leading replicate axis: (R, rows) arrays.

    Every split has the same sizes, so the R splits stack into one array per column, and
    ``fit_sweep(..., data_per_run=True)`` trains run r on split r. The feature is standardized per split.
    """
    category = np.argmax(ds.x[:, :37], axis=1).astype(np.int32)  # the one-hot state columns → an index
    feature = ds.x[:, ds.feature_names.index(config.feature)]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("c_tr", "x_tr", "y_tr", "c_te", "x_te", "y_te")}
    for key in jax.random.split(jax.random.PRNGKey(config.seed), config.replicates):
        (xs_tr, y_tr), (xs_te, y_te) = data.train_test_split(np.c_[category, feature], ds.y, key=key)
        scaler = data.fit_standardizer(xs_tr[:, 1:])
        c_tr, c_te = xs_tr[:, 0].astype(np.int32), xs_te[:, 0].astype(np.int32)
        if not config.condition:  # the negative control: every row in one category, so δ(state = s) is 1 for s = 0
            c_tr, c_te = np.zeros_like(c_tr), np.zeros_like(c_te)
        for k, v in (("c_tr", c_tr), ("x_tr", scaler.transform(xs_tr[:, 1:])[:, 0]), ("y_tr", y_tr),
                     ("c_te", c_te), ("x_te", scaler.transform(xs_te[:, 1:])[:, 0]), ("y_te", y_te)):  # fmt: skip
            cols[k].append(v)
    return {k: np.stack(v) for k, v in cols.items()}


def _objective(model: models.Model, loss: Any) -> Any:
    """loss(model(c, x), y) on a batch ((c, x), y) of one split: c the state indices (B,), x the feature (B,)."""

    def objective(params: Any, batch: tuple) -> jax.Array:
        (c, x), y = batch
        return loss(model.apply(params, (c, x[:, None])), y)

    return objective


def _fit(
    config: Config, objective: Any, optimizer: Any, model: models.Model, s: dict[str, np.ndarray], categories: str
) -> Any:
    """Train the model on every split at once (``train.fit_sweep``: run r on split r); the fitted params, (R, …).

    ``categories="state"`` reads each row's state; ``"none"`` puts every row in category 0 (one shared line).
    """
    r = config.replicates
    c = s["c_tr"] if categories == "state" else np.zeros_like(s["c_tr"])
    res = train.fit_sweep(
        objective,
        jax.vmap(model.init)(jax.random.split(jax.random.PRNGKey(config.seed), r)),
        optimizer,
        ((jnp.asarray(c), jnp.asarray(s["x_tr"], jnp.float32)), jnp.asarray(s["y_tr"], jnp.float32)),
        keys=jax.random.split(jax.random.fold_in(jax.random.PRNGKey(config.seed), 1), r),
        epochs=config.epochs,
        batch_size=config.batch_size,
        progress=False,
        data_per_run=True,  # run r trains on split r
    )
    # A blow-up that stays finite (η far too large): 1000× the loss of predicting 0 (MAE mean|y|, MSE mean y²,
    # whichever is larger) is no fit.
    y = np.asarray(s["y_tr"], np.float64)
    final, zero_loss = np.asarray(res.history["train_loss"])[:, -1], np.maximum(np.mean(np.abs(y), 1), np.mean(y**2, 1))
    if not np.all(final <= 1e3 * zero_loss):
        worst = float(np.max(final / zero_loss))
        raise FloatingPointError(f"training blew up: the training loss ends at {worst:.3g}× that of predicting 0")
    return res.params


def _errors(model: models.Model, params: Any, c: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-split (absolute errors mean, squared errors mean) of fitted params (R, …) on (R, rows) data: (R, 2)."""
    out = []
    for r in range(c.shape[0]):
        p = jax.tree_util.tree_map(lambda a, r=r: a[r], params)
        pred = np.asarray(model.apply(p, (jnp.asarray(c[r]), jnp.asarray(x[r, :, None], jnp.float32))))
        out.append((np.mean(np.abs(pred - y[r])), np.mean((pred - y[r]) ** 2)))
    return np.asarray(out, dtype=np.float64)


def compute(config: Config) -> Result:
    ds = data.load("covid")
    if config.feature not in ds.feature_names[37:]:
        raise ValueError(f"feature must be one of the daily COVID features, got {config.feature!r}")
    state_names = ds.feature_names[:37]
    s = _splits(config, ds)
    cond = models.conditional_linear(37, 1)

    # One shared line (every row in category 0: y = b₀ + w₀x) and one line per state, trained by the same
    # sweep and optimizer on the lecture's error measure (average absolute error), on every split at once.
    mae, mse = _objective(cond, losses.mae), _objective(cond, losses.mse)  # one compiled program per objective
    adam = optax.adam(config.learning_rate)  # the same object each time: the trainer caches programs by it
    shared = _fit(config, mae, adam, cond, s, "none")
    fitted = _fit(config, mae, adam, cond, s, "state")
    mse_fit = _fit(config, mse, adam, cond, s, "state")
    zeros = np.zeros_like
    shared_tr = _errors(cond, shared, zeros(s["c_tr"]), s["x_tr"], s["y_tr"])[:, 0]
    shared_te = _errors(cond, shared, zeros(s["c_te"]), s["x_te"], s["y_te"])[:, 0]
    cond_tr = _errors(cond, fitted, s["c_tr"], s["x_tr"], s["y_tr"])[:, 0]
    cond_te = _errors(cond, fitted, s["c_te"], s["x_te"], s["y_te"])[:, 0]
    mse_trained = _errors(cond, mse_fit, s["c_tr"], s["x_tr"], s["y_tr"])[:, 1]

    # The oracle: per-state least squares in closed form with NumPy (MSE-optimal, so compared by MSE).
    mse_closed = np.zeros(config.replicates)
    for r in range(config.replicates):
        c, x, y = s["c_tr"][r], s["x_tr"][r], s["y_tr"][r]
        pred = np.zeros_like(y)
        for state in np.unique(c):
            m = c == state
            a = np.c_[x[m], np.ones(m.sum())]
            pred[m] = a @ np.linalg.lstsq(a, y[m], rcond=None)[0]
        mse_closed[r] = np.mean((pred - y) ** 2)
    gap = np.abs(mse_trained / mse_closed - 1)
    train_ratio, test_ratio = cond_tr / shared_tr, cond_te / shared_te

    metrics = {
        "single_train_mae": float(shared_tr.mean()),
        "single_test_mae": float(shared_te.mean()),
        "conditional_train_mae": float(cond_tr.mean()),
        "conditional_test_mae": float(cond_te.mean()),
        "conditional_mse_trained": float(mse_trained.mean()),
        "conditional_mse_closed_form": float(mse_closed.mean()),
        "closed_form_worst_gap": float(gap.max()),
        "lecture_train_ratio": LECTURE["conditional_train_mae"] / LECTURE["single_train_mae"],
        "lecture_test_ratio": LECTURE["conditional_test_mae"] / LECTURE["single_test_mae"],
        "n_train": float(s["y_tr"].shape[1]),
        "n_params": float(2 * 37),
        "train_ratio": float(train_ratio.mean()),
        "test_ratio": float(test_ratio.mean()),
    }

    # The figure: the first split's four largest states, their lines, and the shared line.
    c_tr, x_tr, y_tr = s["c_tr"][0], s["x_tr"][0], s["y_tr"][0]
    raw = ds.x[:, ds.feature_names.index(config.feature)]
    first_key = jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)[0]
    (xs_first, _), _ = data.train_test_split(raw, ds.y, key=first_key)  # the first split's rows: its scaler
    scaler = data.fit_standardizer(xs_first[:, None])
    first = lambda p: jax.tree_util.tree_map(lambda a: a[0], p)
    counts = np.bincount(c_tr, minlength=37)
    show = [int(v) for v in np.argsort(-counts)[:4] if counts[v] > 0]  # the control has one category only
    per_state = {}
    for state in show:
        m = c_tr == state
        grid = np.linspace(x_tr[m].min(), x_tr[m].max(), 50)
        pred = np.asarray(cond.apply(first(fitted), (np.full(len(grid), state, np.int32), grid[:, None])))
        name = state_names[state] if config.condition else "all states (control: one category)"
        per_state[name] = (scaler.inverse(x_tr[m, None])[:, 0], y_tr[m], scaler.inverse(grid[:, None])[:, 0], pred)
    shown = np.isin(c_tr, show)
    grid = np.linspace(x_tr[shown].min(), x_tr[shown].max(), 50)
    shared_line = np.asarray(cond.apply(first(shared), (np.zeros(len(grid), np.int32), grid[:, None])))
    shared_curve = (scaler.inverse(grid[:, None])[:, 0], shared_line)

    tr, te = metrics["train_ratio"], metrics["test_ratio"]
    lt, lte = metrics["lecture_train_ratio"], metrics["lecture_test_ratio"]
    larger = test_ratio > 1.1 * train_ratio
    control = " (negative control: every row in one category)" if not config.condition else ""
    summary = (
        f"Day 5's positive rate from `{config.feature}` over {config.replicates} random splits ({len(y_tr)} training "
        f"/ {s['y_te'].shape[1]} test rows of `covid.train.csv` each){control}, with one line for all states and "
        "with one line per state (y = Σₛ δ(state = s)(bₛ + wₛx), the lecture's species-conditioned Pokémon model on "
        f"our data), both trained on the average absolute error with Adam ({config.epochs} epochs, batch "
        f"{config.batch_size}; one `fit_sweep` trains every split at once). Conditioning on the state takes the "
        f"training MAE from {metrics['single_train_mae']:.3g} to {metrics['conditional_train_mae']:.3g} (×{tr:.3f} on "
        f"average) and the test MAE from {metrics['single_test_mae']:.3g} to {metrics['conditional_test_mae']:.3g} "
        f"(×{te:.3f}). The lecture's errors come from other data (Pokémon CP), so we compare the shape, not the "
        f"values: there conditioning multiplied the training error by {lt:.2f} and the test error by {lte:.2f}; "
        f"here the test ratio exceeds 1.1 × the training ratio on {int(larger.sum())} of {config.replicates} "
        f"splits. Trained on the MSE, the conditional model reaches the per-state closed-form least squares "
        f"(MSE {metrics['conditional_mse_trained']:.4f} vs {metrics['conditional_mse_closed_form']:.4f} on average; "
        f"worst gap {gap.max():.2%})."
    )
    rows = [
        ["one shared line", metrics["single_train_mae"], metrics["single_test_mae"]],
        ["one line per state", metrics["conditional_train_mae"], metrics["conditional_test_mae"]],
    ]
    ratio_rows = [["ours (COVID, per state; mean over splits)", tr, te], ["lecture (Pokémon CP, per species)", lt, lte]]
    split_rows = [
        [r, shared_tr[r], cond_tr[r], shared_te[r], cond_te[r], train_ratio[r], test_ratio[r]]
        for r in range(config.replicates)
    ]
    return Result(
        title=f"A linear model with a condition: ×{tr:.2f} training and ×{te:.2f} test error",
        summary=summary,
        metrics=metrics,
        lecture={"train_ratio": lt, "test_ratio": lte},  # only the shape is comparable across data sets
        replicates={
            "train_mae_shared_minus_conditional": shared_tr - cond_tr,
            "test_mae_shared_minus_conditional": shared_te - cond_te,
            "test_ratio_minus_1_1_train_ratio": test_ratio - 1.1 * train_ratio,
            "one_percent_minus_closed_form_gap": 0.01 - gap,
        },
        tables={
            f"Average absolute error on COVID HW1 (`{config.feature}` → tested_positive, day 5), mean over splits": (
                table(["model", "train", "test"], rows)
            ),
            "The shape: conditional error / shared-line error (lecture's from its Pokémon CP tables)": table(
                ["", "train ratio", "test ratio"], ratio_rows
            ),
            "Per split (MAE)": table(
                ["split", "shared train", "per-state train", "shared test", "per-state test", "train ratio",
                 "test ratio"],
                split_rows,
            ),  # fmt: skip
        },
        data={"per_state": per_state, "shared": shared_curve, "feature": config.feature,
              "ratios": (train_ratio, test_ratio)},  # fmt: skip
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    m = result.metrics

    def draw_lines(ax: Any) -> None:
        for i, (name, (xs, ys, gx, gy)) in enumerate(d["per_state"].items()):
            color = f"C{i}"
            ax.scatter(xs, ys, s=12, alpha=0.6, color=color, label=f"{name}: data and its line")
            ax.plot(gx, gy, "-", color=color, linewidth=2)
        ax.plot(*d["shared"], "--", color="black", linewidth=1.5, label="one shared line (all states)")
        ax.set_xlabel(f"{d['feature']} (day 5)")
        ax.set_ylabel("tested_positive (day 5)")

    fig = plot.panels(
        out / "per_state_lines.png",
        [draw_lines],
        titles=["y = bₛ + wₛx, four largest states (first split's training rows)"],
        suptitle="One line per state vs one shared line",
        ncols=1,
        panel_size=(6.4, 4.6),
        legend_loc="outside",
    )
    fig_bar = plot.bars(
        out / "error_ratios.png",
        ["train", "test"],
        {
            "ours: per-state / shared (COVID)": [m["train_ratio"], m["test_ratio"]],
            "lecture: per-species / shared (Pokémon CP)": [m["lecture_train_ratio"], m["lecture_test_ratio"]],
        },
        title="How much conditioning lowers the average absolute error",
        ylabel="MAE ratio: conditional / one line",
        hlines={"no gain (ratio 1)": 1.0},
        legend_loc="below",
    )
    return [fig, fig_bar]
