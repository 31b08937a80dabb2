"""Logistic regression with square error vs cross-entropy: the flat loss surface and the stalled training
(SCOPE §2.7–2.8)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "σ + square error has a flat surface far from the target and stalls; cross-entropy does not"
SECTION = "2.8"

LOSSES = {"cross-entropy": "cross_entropy", "square error": "mse"}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n: int = 200
    start: tuple[float, float] = (-6.0, -6.0)
    learning_rate: float = 1.0
    epochs: int = 600
    record_every: int = 5
    limit: float = 10.0

    QUICK = {"epochs": 200}


def _stalls(m: Mapping[str, float]) -> bool:
    # Cross-entropy reaches 90% of the best accuracy; square error does not, or needs 5× as many epochs.
    ce, se = m["cross_entropy_epochs_to_90pct_of_best"], m["mse_epochs_to_90pct_of_best"]
    return bool(m["cross_entropy_reached_90pct_of_best"]) and (not m["mse_reached_90pct_of_best"] or se >= 5 * ce)


def _reach(m: Mapping[str, float], key: str) -> str:
    if m[f"{key}_reached_90pct_of_best"]:
        return f"after {m[f'{key}_epochs_to_90pct_of_best']:.0f} epochs"
    return f"not within {m['epochs']:.0f} epochs"


CLAIMS = (
    Claim(
        "mse_gradient_vanishes_far",
        "2.8",
        "With σ and the square error, ∂L/∂wᵢ = 2(f − ŷ)f(1 − f)xᵢ vanishes far from the target (f ≈ 0 where ŷ = 1): "
        "at a start where most predictions are wrong (training accuracy < 20%) its gradient is tiny (< 1/20 of "
        "cross-entropy's), while cross-entropy's −(ŷ − f)xᵢ is largest there.",
        lambda m: (
            m["mse_gradient_norm_at_start"] < 0.05 * m["cross_entropy_gradient_norm_at_start"]
            and m["accuracy_at_start"] < 0.2
        ),
        reads=("mse_gradient_norm_at_start", "cross_entropy_gradient_norm_at_start", "accuracy_at_start"),
        explain=lambda m: (
            f"At the start (training accuracy {m['accuracy_at_start']:.1%}) the square error's gradient is "
            f"{m['cross_entropy_gradient_norm_at_start'] / m['mse_gradient_norm_at_start']:.0f}× smaller than "
            "cross-entropy's (the bar: 20×)."
        ),
    ),
    Claim(
        "mse_stalls",
        "2.8",
        "Training logistic regression with the square error stalls on the flat surface, where cross-entropy "
        "training makes progress (same data, start and η): cross-entropy reaches 90% of the best accuracy, the "
        "square error does not, or needs at least 5× as many epochs.",
        _stalls,
        reads=(
            "cross_entropy_reached_90pct_of_best",
            "cross_entropy_epochs_to_90pct_of_best",
            "mse_reached_90pct_of_best",
            "mse_epochs_to_90pct_of_best",
            "cross_entropy_final_accuracy",
            "mse_final_accuracy",
        ),
        explain=lambda m: (
            f"Cross-entropy reaches 90% of the best accuracy {_reach(m, 'cross_entropy')}, square error "
            f"{_reach(m, 'mse')}; final training accuracy {m['cross_entropy_final_accuracy']:.1%} against "
            f"{m['mse_final_accuracy']:.1%}."
        ),
    ),
    Claim(
        "closed_form_gradients",
        "2.7",
        "The gradients in closed form, −Σₙ(ŷⁿ − f(xⁿ))xᵢⁿ for cross-entropy and Σₙ2(f − ŷ)f(1 − f)xᵢⁿ for the square "
        "error, equal autodiff's.",
        lambda m: m["closed_form_gradient_max_gap"] < 1e-10,
        reads=("closed_form_gradient_max_gap",),
    ),
)


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping classes split by x₁ + x₂ = 0 (the ideal w points along (1, 1); no bias needed)."""
    x = rng.normal(size=(n, 2))
    y = (x @ np.array([1.0, 1.0]) + 0.5 * rng.normal(size=n) > 0).astype(np.int32)
    return x, y


def compute(config: Config) -> Result:
    with jax.enable_x64(True):  # closed-form gradients are compared with autodiff to ~1e-15
        return _run(config)


def _run(config: Config) -> Result:
    x, y = make_data(np.random.default_rng(config.seed), config.n)
    epochs = config.epochs
    model = models.linear(2)
    # The lecture's picture has two parameters: train w₁, w₂ and keep the bias frozen at 0.
    frozen_bias = lambda opt: optax.multi_transform({"w": opt, "b": optax.set_to_zero()}, {"w": "w", "b": "b"})
    to_params = lambda a, b: {"w": jnp.stack([a, b])[:, None], "b": jnp.zeros((1,), jnp.float64)}
    accuracy = classification.accuracy_metric(model.apply)
    start = {"w": jnp.asarray(config.start, jnp.float64)[:, None], "b": jnp.zeros((1,), jnp.float64)}
    results, paths, surfaces, grads0 = {}, {}, {}, {}
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    for label, loss in LOSSES.items():
        objective = classification.objective(model.apply, loss)
        path = [np.asarray(config.start)]
        record = lambda _epoch, state, path=path: path.append(np.asarray(state.params["w"])[:, 0])
        results[label] = train.fit(
            objective, start, frozen_bias(optax.sgd(config.learning_rate)), (xj, yj),
            key=config.seed, epochs=epochs, metrics={"accuracy": accuracy},
            callback_every=config.record_every, callback=record, progress=False,
        )  # fmt: skip
        paths[label] = np.stack(path)
        surfaces[label] = classification.loss_surface(objective, to_params, (xj, yj))
        g = jax.grad(objective)(start, (xj, yj))["w"]
        grads0[label] = float(jnp.linalg.norm(g))
    # The lecture's closed forms at the start agree with autodiff (a check shown in the table).
    w0, b0 = start["w"][:, 0], start["b"][0]
    closed = {
        "cross-entropy": classification.cross_entropy_gradient(w0, b0, xj, yj)[0],
        "square error": classification.mse_gradient(w0, b0, xj, yj)[0],
    }
    autodiff = {
        k: jax.grad(classification.objective(model.apply, v))(start, (xj, yj))["w"][:, 0] for k, v in LOSSES.items()
    }
    closed_gap = max(float(jnp.max(jnp.abs(closed[k] - autodiff[k]))) for k in LOSSES)
    # |∂L/∂w| along the diagonal w₁ = w₂ = t: square error's gradient vanishes far from the optimum.
    ts = np.linspace(-config.limit, config.limit, 401)
    slice_grad = {}
    for label, loss in LOSSES.items():
        grad = jax.grad(classification.objective(model.apply, loss))
        norm = jax.vmap(lambda t, grad=grad: jnp.linalg.norm(grad(to_params(t, t), (xj, yj))["w"]))
        slice_grad[label] = np.asarray(norm(jnp.asarray(ts)))

    def first_epoch(acc: np.ndarray, level: float) -> tuple[bool, float]:
        # Not reached: the sentinel epochs + 1 ("later than the run"), with the boolean saying so.
        hit = np.flatnonzero(acc >= level)
        return (True, float(hit[0] + 1)) if hit.size else (False, float(epochs + 1))

    best = max(float(r.history["train_accuracy"][-1]) for r in results.values())
    accuracy_at_start = float(accuracy(start, (xj, yj)))
    metrics: dict[str, float] = {
        "epochs": float(epochs),
        "accuracy_at_start": accuracy_at_start,
        "threshold_90pct_of_best": 0.9 * best,
    }
    rows = []
    for label, r in results.items():
        key = LOSSES[label]
        acc = r.history["train_accuracy"]
        reached, when = first_epoch(acc, 0.9 * best)
        metrics[f"{key}_final_accuracy"] = float(acc[-1])
        metrics[f"{key}_reached_90pct_of_best"] = float(reached)
        metrics[f"{key}_epochs_to_90pct_of_best"] = when
        metrics[f"{key}_gradient_norm_at_start"] = grads0[label]
        rows.append([label, grads0[label], float(acc[-1]), f"{when:.0f}" if reached else f"not within {epochs}"])
    metrics["closed_form_gradient_max_gap"] = closed_gap
    ce, se = results["cross-entropy"].history["train_accuracy"], results["square error"].history["train_accuracy"]
    summary = (
        f"Logistic regression f = σ(w₁x₁ + w₂x₂) on {config.n} points, started far from the optimum at "
        f"w = {config.start} (training accuracy {accuracy_at_start:.1%}: {1 - accuracy_at_start:.1%} of the "
        f"predictions wrong), trained by the same full-batch gradient descent "
        f"(η = {config.learning_rate:g}, {epochs} epochs). "
        "With the square error ∂L/∂wᵢ = 2(f − ŷ)f(1 − f)xᵢ: where f ≈ 0 for a class-1 point, f(1 − f) ≈ 0 and "
        f"the gradient vanishes although the prediction is wrong — its norm at the start is "
        f"{grads0['square error']:.2e} against {grads0['cross-entropy']:.2e} for cross-entropy, whose gradient "
        f"−(ŷ − f)xᵢ is largest exactly there. Cross-entropy reaches 90% of the best final accuracy "
        f"({0.9 * best:.1%}) {_reach(metrics, 'cross_entropy')}, square error {_reach(metrics, 'mse')}; final "
        f"training accuracy {ce[-1]:.1%} against {se[-1]:.1%}. The lecture's closed-form gradients equal "
        f"autodiff to {closed_gap:.1e}."
    )
    return Result(
        title=(
            "Square error vs cross-entropy for logistic regression: 90% of the best accuracy "
            f"{_reach(metrics, 'cross_entropy')} vs {_reach(metrics, 'mse')}"
        ),
        summary=summary,
        metrics=metrics,
        tables={"From the far start": table(["loss", "‖g‖ at start", "final accuracy", "epochs to 90% of best"], rows)},
        data={
            "paths": paths,
            "histories": {k: r.history for k, r in results.items()},
            "surfaces": surfaces,
            "slice": (ts, slice_grad),
            "config": config,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    with jax.enable_x64(True):  # the loss surfaces are evaluated in float64, as in compute
        return _figures(result, out)


def _figures(result: Result, out: Path) -> list[Path]:
    config = result.data["config"]
    paths, surfaces = result.data["paths"], result.data["surfaces"]
    ts, slice_grad = result.data["slice"]
    histories = result.data["histories"]
    epochs = int(result.metrics["epochs"])
    lim = (-config.limit, config.limit)
    figs = [
        plot.contour(
            out / f"surface_{LOSSES[label]}.png",
            surfaces[label],
            lim,
            lim,
            title=f"{label}: mean loss over (w₁, w₂), b = 0",
            xlabel="w₁",
            ylabel="w₂",
            trajectories={f"gradient descent, η = {config.learning_rate:g}": paths[label]},
            points={"start": config.start},
            levels=25,
            resolution=120,
        )  # fmt: skip
        for label in LOSSES
    ]
    epochs_axis = np.arange(1, epochs + 1)
    figs.append(
        plot.curves(
            out / "training_accuracy.png",
            {label: (epochs_axis, h["train_accuracy"]) for label, h in histories.items()},
            title=f"Training accuracy from w = {config.start} (same data, same η)",
            xlabel="epoch",
            ylabel="training accuracy",
            hlines={"90% of the best final accuracy": result.metrics["threshold_90pct_of_best"]},
            legend_loc="center right",
        )
    )
    figs.append(
        plot.curves(
            out / "gradient_norm_slice.png",
            {label: (ts, g) for label, g in slice_grad.items()},
            title="‖∂L/∂w‖ along w₁ = w₂ = t",
            xlabel="t",
            ylabel="gradient norm",
            logy=True,
        )
    )

    return figs
