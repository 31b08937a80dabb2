"""Piecewise-linear curves are a constant plus hard sigmoids; sigmoid and ReLU sums approximate any smooth
curve (SCOPE §1.4–1.6)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Exact hard-sigmoid construction, 2 ReLU = 1 hard sigmoid, error of sigmoid/ReLU sums vs units"
SECTION = "1.5"


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(x) + 0.3 * x


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    units: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    n_train: int = 200
    noise: float = 0.0
    epochs: int = 3000
    seeds: int = 3


def main(config: Config) -> Result:
    out = config.out_dir("sigmoid_sum")
    key = jax.random.PRNGKey(config.seed)
    grid = np.linspace(-5.0, 5.0, 2001)

    # 1. The exact construction: constant + Σ hard sigmoids through the breakpoints.
    bx, by = data.piecewise_linear_target()
    pw = models.piecewise_linear(bx, by)
    built = np.asarray(models.piecewise_linear_apply(pw, jnp.asarray(grid)))
    exact_error = float(np.max(np.abs(built - np.interp(grid, bx, by))))
    parts = {
        "target (piecewise linear)": (grid, np.interp(grid, bx, by)),
        f"constant c₀ = {float(pw.constant):g}": (grid, np.full_like(grid, float(pw.constant))),
    }
    for i in range(len(pw.c)):
        component = float(pw.c[i]) * np.asarray(models.hard_sigmoid(pw.a[i] * grid + pw.b[i]))
        parts[f"{float(pw.c[i]):+.2g}·hard_sigmoid(x) on [{bx[i]:g}, {bx[i + 1]:g}]"] = (grid, component)
    fig_build = plot.curves(
        out / "hard_sigmoid_construction.png",
        parts,
        title=f"Constant + {len(pw.c)} hard sigmoids = the curve (max error {exact_error:.1e})",
        xlabel="x",
        ylabel="y",
        styles={k: "--" for k in list(parts)[1:]},
    )

    # 2. Two ReLUs make one hard sigmoid: relu(0.2x + 0.5) − relu(0.2x − 0.5).
    relu_pair = np.asarray(jax.nn.relu(0.2 * grid + 0.5) - jax.nn.relu(0.2 * grid - 0.5))
    relu_error = float(np.max(np.abs(relu_pair - np.asarray(models.hard_sigmoid(grid)))))

    # 3. A smooth curve: piecewise-linear interpolation with n hard sigmoids (construction) and trained
    #    sigmoid / ReLU sums with n units (Adam, several seeds at once through fit_sweep).
    units = (config.units[1], config.units[-1]) if config.quick else config.units
    epochs = config.epochs // 6 if config.quick else config.epochs
    k_data, k_init, k_train = jax.random.split(key, 3)
    x, y = data.noisy_regression_1d(k_data, config.n_train, noise=config.noise, low=-5, high=5, fn=_smooth)
    xd, yd, gd = data.to_device(x, y, grid)
    errors = {"hard sigmoids (construction)": [], "sigmoid sum (trained)": [], "ReLU sum (trained)": []}
    fits = {}
    for n in units:
        knots = np.linspace(-5, 5, n + 1)
        approx = models.piecewise_linear_apply(models.piecewise_linear(knots, _smooth(knots)), gd)
        errors["hard sigmoids (construction)"].append(float(jnp.max(jnp.abs(approx - _smooth(grid)))))
        for label, factory in (("sigmoid sum (trained)", models.sigmoid_sum), ("ReLU sum (trained)", models.relu_sum)):
            model = factory(1, n)
            res = train.fit_sweep(
                train.supervised(model.apply, losses.mse),
                jax.vmap(model.init)(jax.random.split(jax.random.fold_in(k_init, n), config.seeds)),
                optax.adam(0.02),
                (xd, yd),
                keys=jax.random.split(k_train, config.seeds),
                epochs=epochs,
            )
            best = int(np.argmin(res.history["train_loss"][:, -1]))
            params = jax.tree_util.tree_map(lambda a, i=best: a[i], res.params)
            pred = np.asarray(model.apply(params, gd))
            errors[label].append(float(np.max(np.abs(pred - _smooth(grid)))))
            fits[(label, n)] = pred
    fig_err = plot.curves(
        out / "error_vs_units.png",
        {k: (np.asarray(units), v) for k, v in errors.items()},
        title="Approximating sin(x) + 0.3x on [−5, 5]",
        xlabel="number of units / segments",
        ylabel="max |error|",
        logx=True,
        logy=True,
        styles={k: "o-" for k in errors},
    )
    n_show = units[-1]
    fig_fit = plot.fitted_functions(
        out / "fits.png",
        x,
        y,
        {
            "target": (grid, _smooth(grid)),
            f"{n_show} sigmoids": (grid, fits[("sigmoid sum (trained)", n_show)]),
            f"{n_show} ReLUs": (grid, fits[("ReLU sum (trained)", n_show)]),
        },
        title=f"Trained with {n_show} units (best of {config.seeds} seeds)",
    )
    rows = [[n, *(errors[k][i] for k in errors)] for i, n in enumerate(units)]
    return Result(
        title="Sums of sigmoids: hard, soft and ReLU",
        summary=(
            f"The piecewise-linear curve through {len(bx)} breakpoints equals a constant plus {len(pw.c)} hard "
            f"sigmoids to {exact_error:.1e} — a construction, not a fit. relu(0.2x+0.5) − relu(0.2x−0.5) "
            f"equals the hard sigmoid to {relu_error:.1e}. For a smooth curve, the error of n hard sigmoids falls "
            "like 1/n², and trained sigmoid and ReLU sums also improve with more units."
        ),
        metrics={
            "construction_max_error": exact_error,
            "two_relu_minus_hard_sigmoid_max_error": relu_error,
            **{f"max_error_{k.split()[0].lower()}_{units[-1]}_units": v[-1] for k, v in errors.items()},
            **{f"max_error_{k.split()[0].lower()}_{units[0]}_units": v[0] for k, v in errors.items()},
        },
        tables={"Max |error| on [−5, 5] by number of units": table(["units", *errors], rows)},
        figures=[str(f) for f in (fig_build, fig_err, fig_fit)],
        data={"errors": errors, "units": list(units)},
    )
