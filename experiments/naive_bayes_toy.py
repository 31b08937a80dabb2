"""The lecture's toy set where naive Bayes and logistic regression disagree: P(C₁|(1,1)) = 3/7 (course §2.9).

Both claims are constructions, so both are exact: naive Bayes is a closed form of the 13 counted points, and
logistic regression is the convex cross-entropy on the same 13 points, started at w = 0, b = 0 and trained by
full-batch Adam — no seed, start, split or draw enters (the run is identical at every ``seed``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, generative, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table

DESCRIPTION = "One (1,1) in C₁, twelve points in C₂: naive Bayes gives P(C₁|(1,1)) = 3/7, logistic regression > ½"
SECTION = "2.9"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    alpha: float = 0.0
    epochs: int = 2000
    learning_rate: float = 0.1

    QUICK = {"epochs": 500}

    DOMAINS = {
        "alpha": number(0),
        "epochs": integer(),
        "learning_rate": number(0, low_open=True),
    }


CLAIMS = (
    Claim(
        "naive_bayes_3_7",
        "2.9",
        "Naive Bayes gives P(C₁|(1,1)) = 3/7 < ½ on the toy set: it calls the only C₁ example C₂.",
        lambda m: abs(m["naive_bayes_p_c1_given_11"] - 3 / 7) < 1e-9,
        reads=("naive_bayes_p_c1_given_11",),
    ),
    Claim(
        "logistic_follows_data",
        "2.9",
        "Logistic regression, modelling P(C₁|x) directly, puts (1,1) in C₁ (P > ½): the data are separable "
        "(only (1,1) is in C₁), and the convex cross-entropy started at w = 0 moves toward a separating direction.",
        lambda m: m["logistic_p_c1_given_11"] > 0.5,
        reads=("logistic_p_c1_given_11",),
    ),
)


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    """C₁ (label 1): one (1,1). C₂ (label 0): 4×(1,0), 4×(0,1), 4×(0,0)."""
    x = np.array([[1, 1]] + [[1, 0]] * 4 + [[0, 1]] * 4 + [[0, 0]] * 4, dtype=np.float64)
    y = np.array([1] + [0] * 12, dtype=np.int32)
    return x, y


QUERIES = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
LABELS = [f"({int(a)},{int(b)})" for a, b in QUERIES]


def compute(config: Config) -> Result:
    x, y = toy_data()
    with jax.enable_x64(True):
        nb = generative.fit_bernoulli(x, y, alpha=config.alpha)
        p_nb = np.asarray(generative.predict_proba(nb, QUERIES))[:, 1]
        model = models.linear(2)
        # w = 0, b = 0: the loss is convex, so the start is not a design choice and no seed enters; full batch
        # (batch_size None), so the batch-order key is unused too.
        params = jax.tree_util.tree_map(
            lambda a: jnp.zeros(a.shape, jnp.float64), model.init(jax.random.PRNGKey(0))
        )
        fit = train.fit(
            classification.objective(model.apply, "cross_entropy"),
            params,
            optax.adam(config.learning_rate),
            (jnp.asarray(x), jnp.asarray(y)),
            key=0,
            epochs=config.epochs,
            progress=False,
        )
        p_lr = np.asarray(jax.nn.sigmoid(model.apply(fit.params, QUERIES)))
    rows = [[lab, a, b] for lab, a, b in zip(LABELS, p_nb, p_lr)]
    side = "C₁" if p_lr[0] > 0.5 else "C₂"
    return Result(
        title="Naive Bayes vs logistic regression on the toy set",
        summary=(
            "Training data: C₁ = {(1,1)}, C₂ = {4×(1,0), 4×(0,1), 4×(0,0)}. Naive Bayes estimates "
            "P(C₁) = 1/13, P(xᵢ=1|C₁) = 1 and P(C₂) = 12/13, P(xᵢ=1|C₂) = 1/3, so "
            f"P(C₁|(1,1)) = (1/13)/((1/13) + (12/13)(1/3)(1/3)) = 3/7; this run computes {p_nb[0]:.6f}. "
            f"Logistic regression (convex cross-entropy from w = 0, b = 0, {config.epochs} full-batch Adam steps at "
            f"η = {config.learning_rate:g}; no seed enters) gives P(C₁|(1,1)) = {p_lr[0]:.3f}, "
            f"placing (1,1) in {side}."
        ),
        metrics={"naive_bayes_p_c1_given_11": float(p_nb[0]), "logistic_p_c1_given_11": float(p_lr[0])},
        lecture={"naive_bayes_p_c1_given_11": 3 / 7},
        tables={"P(C₁|x)": table(["x", "naive Bayes", "logistic regression"], rows)},
        data={"naive_bayes": nb, "logistic_params": fit.params, "p_nb": p_nb, "p_lr": p_lr},
    )


def figures(result: Result, out: Path) -> list[Path]:
    return [
        plot.bars(
            out / "posterior_c1.png",
            LABELS,
            {
                "naive Bayes (generative)": result.data["p_nb"],
                "logistic regression (discriminative)": result.data["p_lr"],
            },
            title="P(C₁|x): naive Bayes assumes x₁, x₂ independent given the class",
            ylabel="P(C₁|x)",
            xlabel="x",
            hlines={"½": 0.5},
            value_labels=True,
        )
    ]
