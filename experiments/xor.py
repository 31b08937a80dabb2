"""XOR: logistic regression fails, a hand-made feature transformation works, and a cascade of logistic
regressions learns the transformation itself — deep learning (SCOPE §2.11)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Logistic regression fails on XOR; distances to (0,0), (1,1) fix it; a cascade learns the transformation"
SECTION = "2.11"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n_per_corner: int = 25
    noise: float = 0.1
    epochs: int = 2000
    learning_rate: float = 0.1
    seeds: int = 8

    QUICK = {"epochs": 500}


def _cascade_solves(m: Mapping[str, float]) -> bool:
    # Solved: the best seed classifies every training point, and its learned features are linearly separable
    # (a fresh logistic regression on them is perfect too).
    return m["cascade_accuracy"] >= 0.99 and m["logistic_on_learned_features_accuracy"] >= 0.99


CLAIMS = (
    Claim(
        "logistic_fails_xor",
        "2.11",
        "XOR is not linearly separable: logistic regression on (x₁, x₂) cannot classify it (at best 3 of the 4 "
        "corners, 75%; in practice ≈ 50%).",
        lambda m: m["logistic_raw_accuracy"] <= 0.76,
        reads=("logistic_raw_accuracy",),
    ),
    Claim(
        "feature_transformation_works",
        "2.11",
        "After the hand-made transformation x′ = (distance to (0,0), distance to (1,1)) a line separates the "
        "classes: logistic regression on x′ classifies XOR.",
        lambda m: m["logistic_hand_made_corner_accuracy"] == 1.0 and m["logistic_hand_made_accuracy"] >= 0.95,
        reads=("logistic_hand_made_corner_accuracy", "logistic_hand_made_accuracy"),
        explain=lambda m: (
            f"It classifies the four exact corners with accuracy {m['logistic_hand_made_corner_accuracy']:.0%} and "
            f"the noisy training points with {m['logistic_hand_made_accuracy']:.0%} (noise pushes a few points "
            "across any line in x′)."
        ),
    ),
    Claim(
        "cascade_learns_transformation",
        "2.11",
        "A cascade of logistic regressions learns the transformation itself (deep learning): its two hidden "
        "units map XOR to linearly separable features and the whole cascade classifies it.",
        _cascade_solves,
        reads=("cascade_accuracy", "logistic_on_learned_features_accuracy", "cascade_seeds_solved"),
        explain=lambda m: (
            f"{m['cascade_seeds_solved']:.0f} of {m['cascade_seeds']:.0f} seeds reach ≥ 99% training accuracy; the "
            "others stall (a poor local minimum, saddle or plateau: not told apart here)."
        ),
    ),
)


def _fit(model: models.Model, x: np.ndarray, y: np.ndarray, epochs: int, config: Config) -> dict[str, jax.Array]:
    return train.fit(
        classification.objective(model.apply, "cross_entropy"),
        model.init(jax.random.PRNGKey(config.seed)),
        optax.adam(config.learning_rate),
        (jnp.asarray(x, jnp.float32), jnp.asarray(y)),
        key=config.seed,
        epochs=epochs,
        progress=False,
    ).params


def compute(config: Config) -> Result:
    x, y = data.xor(jax.random.PRNGKey(config.seed), config.n_per_corner, config.noise)
    epochs = config.epochs
    linear = models.linear(2)

    # 1. Logistic regression on the raw inputs: no line separates XOR.
    raw = _fit(linear, x, y, epochs, config)
    acc_raw = float(losses.accuracy(linear.apply(raw, x), y))

    # 2. The hand-made transformation x' = (‖x − (0,0)‖, ‖x − (1,1)‖), then logistic regression.
    xt = np.asarray(classification.distance_features(x))
    hand = _fit(linear, xt, y, epochs, config)
    acc_hand = float(losses.accuracy(linear.apply(hand, xt), y))
    # The lecture's four noise-free points: (0,0), (1,1) in class 0, (0,1), (1,0) in class 1.
    corners, corner_y = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 0, 1, 1])
    corners_t = np.asarray(classification.distance_features(corners))
    acc_corners = float(losses.accuracy(linear.apply(hand, corners_t), corner_y))

    # 3. A cascade: two logistic units learn x' and a third classifies it. Several seeds in one sweep: a
    #    2-unit cascade can stall, so we report how many seeds solve XOR.
    net = classification.cascade(2, 2)
    keys = jax.random.split(jax.random.PRNGKey(config.seed + 1), config.seeds)
    sweep = train.fit_sweep(
        classification.objective(net.apply, "cross_entropy"),
        jax.vmap(net.init)(keys),
        optax.adam(config.learning_rate),
        (jnp.asarray(x, jnp.float32), jnp.asarray(y)),
        keys=jax.random.split(jax.random.PRNGKey(config.seed + 2), config.seeds),
        epochs=epochs,
        metrics={"accuracy": classification.accuracy_metric(net.apply)},
        progress=False,
    )
    final_acc = sweep.history["train_accuracy"][:, -1]
    final_loss = sweep.history["train_loss"][:, -1]
    best = int(np.argmin(final_loss))
    params = jax.tree_util.tree_map(lambda a: a[best], sweep.params)
    learned = np.asarray(classification.hidden_features(params, x))
    acc_cascade = float(final_acc[best])
    solved = int(np.sum(final_acc >= 0.99))
    # Independent check that the learned features are linearly separable: a fresh logistic regression on them.
    relearned = _fit(linear, learned, y, epochs, config)
    acc_relearned = float(losses.accuracy(linear.apply(relearned, learned), y))
    rows = [
        ["logistic regression on x", acc_raw],
        ["logistic regression on hand-made x'", acc_hand],
        [f"cascade (2 logistic units + 1), best of {config.seeds} seeds", acc_cascade],
        ["fresh logistic regression on the cascade's learned x'", acc_relearned],
    ]
    stalled = "" if solved == config.seeds else ", the others stall (local minimum, saddle or plateau: not told apart)"
    separable = (
        ": the first layer learned a transformation that makes XOR linearly separable"
        if acc_relearned >= 0.99
        else ": the learned features are not linearly separable"
    )
    return Result(
        title=(
            f"XOR: logistic regression {acc_raw:.0%}, hand-made features {acc_hand:.0%}, learned cascade "
            f"{acc_cascade:.0%}"
        ),
        summary=(
            f"XOR with {config.n_per_corner} points per corner (noise {config.noise}). A linear boundary cannot "
            f"separate it (at best 3 of 4 corners): logistic regression reaches {acc_raw:.0%}. Transforming each "
            "point to its distances from (0,0) and (1,1) maps class 1 near (1, 1) and class 0 near (0, √2) and "
            f"(√2, 0); logistic regression on these features classifies {acc_corners:.0%} of the four exact corners "
            f"and {acc_hand:.0%} of the noisy points. A cascade of logistic "
            "regressions — two logistic units x′ᵢ = σ(wᵢᵀx + bᵢ) feeding a third, trained jointly by gradient "
            f"descent — reaches {acc_cascade:.0%} (best of {config.seeds} seeds by training loss; {solved} of "
            f"{config.seeds} seeds reach ≥ 99%{stalled}). A fresh logistic regression on the cascade's learned "
            f"features reaches {acc_relearned:.0%}{separable}. Each logistic unit is a neuron; the cascade is a "
            "neural network."
        ),
        metrics={
            "logistic_raw_accuracy": acc_raw,
            "logistic_hand_made_accuracy": acc_hand,
            "logistic_hand_made_corner_accuracy": acc_corners,
            "cascade_accuracy": acc_cascade,
            "logistic_on_learned_features_accuracy": acc_relearned,
            "cascade_seeds_solved": float(solved),
            "cascade_seeds": float(config.seeds),
        },
        tables={"Training accuracy": table(["model", "accuracy"], rows)},
        data={
            "cascade_params": params,
            "learned_features": learned,
            "seed_accuracy": final_acc,
            "x": x,
            "y": y,
            "xt": xt,
            "raw": raw,
            "hand": hand,
            "acc": (acc_raw, acc_hand, acc_cascade),
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    x, y, xt, raw, hand, params, learned = (
        d[k] for k in ("x", "y", "xt", "raw", "hand", "cascade_params", "learned_features")
    )
    acc_raw, acc_hand, acc_cascade = d["acc"]
    linear = models.linear(2)
    net = classification.cascade(2, 2)

    names = ("class 0: (0,0), (1,1)", "class 1: (0,1), (1,0)")
    figs = [
        plot.decision_regions(
            out / "logistic_regression_raw.png",
            lambda g: np.asarray(linear.apply(raw, g) > 0).astype(int),
            x,
            y,
            title=f"Logistic regression on x: accuracy {acc_raw:.0%}",
            xlabel="x₁",
            ylabel="x₂",
            class_names=names,
            legend_loc="outside",
        ),  # fmt: skip
    ]

    def transformed(path: str, points: np.ndarray, head: dict, title: str, xlabel: str, ylabel: str) -> Path:
        lo, hi = points.min(0) - 0.1, points.max(0) + 0.1
        line = classification.boundary_line(head["w"], head["b"], lo, hi)
        return plot.scatter(
            out / path,
            {names[c]: (points[y == c, 0], points[y == c, 1]) for c in (0, 1)},
            lines={"logistic regression boundary": line} if line[0].size else None,
            title=title, xlabel=xlabel, ylabel=ylabel, legend_loc="outside",
            colors={names[0]: "C0", names[1]: "C1", "logistic regression boundary": "k"},
        )  # fmt: skip

    figs.append(transformed(
        "hand_made_transformation.png", xt, hand,
        f"Hand-made x' = distances to (0,0) and (1,1): accuracy {acc_hand:.0%}",
        "x₁' = ‖x − (0,0)‖", "x₂' = ‖x − (1,1)‖",
    ))  # fmt: skip
    figs.append(transformed(
        "learned_transformation.png", learned, params[1],
        f"Learned x' = σ(W₁x + b₁) of a cascade: accuracy {acc_cascade:.0%}",
        "x₁' (logistic unit 1)", "x₂' (logistic unit 2)",
    ))  # fmt: skip
    figs.append(
        plot.decision_regions(
            out / "cascade_regions.png",
            lambda g: np.asarray(net.apply(params, jnp.asarray(g, jnp.float32)) > 0).astype(int),
            x,
            y,
            title=f"Cascade of logistic regressions on x: accuracy {acc_cascade:.0%}",
            xlabel="x₁",
            ylabel="x₂",
            class_names=names,
            legend_loc="outside",
        )  # fmt: skip
    )
    return figs
