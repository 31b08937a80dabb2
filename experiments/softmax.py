"""Multi-class classification: softmax regression on the digits, beside the shared-Σ generative model whose
posterior has the same softmax-of-linear form (course §2.10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, data, generative, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, flag, integer, number, table

DESCRIPTION = "Softmax regression (one-hot targets, cross-entropy) on 8×8 digits vs the shared-Σ generative model"
SECTION = "2.10"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 0.01
    l2: float = 1e-3
    reg: float = 0.1
    test_fraction: float = 0.25
    shuffle_labels: bool = False  # the negative control: softmax regression trained on permuted labels

    QUICK = {"epochs": 30}

    DOMAINS = {
        "epochs": integer(),
        "batch_size": integer(1, 1000),  # at most the digits training rows
        "learning_rate": number(0, low_open=True),
        "l2": number(0),
        "reg": number(0),
        "test_fraction": number(0, 1, low_open=True, high_open=True),
        "shuffle_labels": flag(),
    }


CONTROL = {"shuffle_labels": True}  # the discriminative model learns nothing: neither claim can hold

CLAIMS = (
    Claim(
        "softmax_classifies",
        "2.10",
        "Softmax regression yᵢ = exp(zᵢ)/Σⱼexp(zⱼ), z = Wx + b, trained with one-hot targets and cross-entropy, "
        "classifies the 10 digits: more than 90% of each held-out split correct.",
        reads=("softmax_test_accuracy",),
        effect="correct_minus_90_percent",
        control=CONTROL,
    ),
    Claim(
        "softmax_outputs_probabilities",
        "2.10",
        "Its outputs are probabilities: every row of softmax(z) is positive and sums to 1.",
        lambda m: m["probability_row_sum_gap"] < 1e-5 and m["probability_min"] > 0,
        reads=("probability_row_sum_gap", "probability_min"),
    ),
    Claim(
        "shared_gaussian_is_softmax_linear",
        "2.10",
        "The generative model with a shared Σ has the same form: P(Cₖ|x) = softmax(Wx + b) with wₖ = Σ⁻¹μᵏ and "
        "bₖ = −½μᵏᵀΣ⁻¹μᵏ + ln P(Cₖ) in closed form.",
        lambda m: m["gaussian_softmax_form_max_gap"] < 1e-8,
        reads=("gaussian_softmax_form_max_gap",),
    ),
    Claim(
        "discriminative_better",
        "2.9",
        "Usually the discriminative model beats the generative one of the same form: softmax regression beats the "
        "shared-Σ Gaussian on the digits' held-out sets (paired: both models on the same split).",
        reads=("softmax_test_accuracy", "shared_gaussian_test_accuracy"),
        effect="softmax_minus_gaussian_correct",
        control=CONTROL,
        explain=lambda m: (
            f"Mean test accuracy over the splits {m['softmax_test_accuracy']:.1%} (softmax) against "
            f"{m['shared_gaussian_test_accuracy']:.1%} (shared-Σ Gaussian)."
        ),
    ),
)


def _replicate(ds: data.Dataset, config: Config, key: jax.Array) -> dict[str, Any]:
    """One replicate: a fresh split (``key``), softmax regression from a fresh init, and the shared-Σ model."""
    split_key, init_key, order_key, shuffle_key = jax.random.split(key, 4)
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(ds, key=split_key, test_fraction=config.test_fraction)
    y_fit = np.asarray(jax.random.permutation(shuffle_key, y_tr)) if config.shuffle_labels else y_tr
    model = models.linear(x_tr.shape[1], len(ds.target_names))
    fit = train.fit(
        classification.objective(model.apply, "softmax", l2=config.l2),
        model.init(init_key),
        optax.adam(config.learning_rate),
        (jnp.asarray(x_tr, jnp.float32), jnp.asarray(y_fit)),
        key=order_key,
        epochs=config.epochs,
        batch_size=config.batch_size,
        val_data=(jnp.asarray(x_te, jnp.float32), jnp.asarray(y_te)),
        metrics={"accuracy": classification.accuracy_metric(model.apply)},
        progress=False,
    )
    logits = model.apply(fit.params, jnp.asarray(x_te, jnp.float32))
    with jax.enable_x64(True):
        # The shared-Σ Gaussian model's posterior is also softmax(Wx + b); some pixels are constant: reg > 0.
        gen = generative.fit(x_tr, y_tr, "shared", reg=config.reg)
        gen_pred = np.asarray(generative.predict(gen, x_te))
    return {
        "fit": fit, "logits": logits, "y_te": y_te, "x_te": x_te, "gen": gen, "gen_pred": gen_pred,
        "n_train": len(y_tr),
    }  # fmt: skip


def compute(config: Config) -> Result:
    ds = data.load("digits")
    k = len(ds.target_names)
    keys = jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)
    runs = [_replicate(ds, config, key) for key in keys]
    # Counts are integers: a replicate's effect is a number of test digits, never a float32 fraction.
    soft_correct = [np.asarray(jnp.argmax(r["logits"], 1)) == r["y_te"] for r in runs]
    gen_correct = [r["gen_pred"] == r["y_te"] for r in runs]
    n_test = len(runs[0]["y_te"])
    needed = -(-9 * n_test // 10)  # ⌈0.9 n⌉: "more than 90%" means at least this many correct
    soft_count = np.array([c.sum() for c in soft_correct], dtype=np.int64)
    gen_count = np.array([c.sum() for c in gen_correct], dtype=np.int64)

    first = runs[0]
    probs = classification.probabilities(first["logits"])
    row_sum_gap = float(jnp.max(jnp.abs(probs.sum(1) - 1.0)))
    prob_min = float(jnp.min(probs))
    with jax.enable_x64(True):
        # Closed form: wₖ = Σ⁻¹μᵏ, bₖ = −½μᵏᵀΣ⁻¹μᵏ + ln P(Cₖ); softmax(Wx + b) against the model's posterior.
        gen, x_te = first["gen"], first["x_te"]
        mu = np.asarray(gen.means)
        sigma_inv_mu = np.linalg.solve(np.asarray(gen.covariance[0]), mu.T)  # (D, K)
        b = -0.5 * np.sum(mu.T * sigma_inv_mu, axis=0) + np.log(np.asarray(gen.priors))
        closed = np.asarray(jax.nn.softmax(jnp.asarray(x_te @ sigma_inv_mu + b), axis=1))
        form_gap = float(np.max(np.abs(closed - np.asarray(generative.predict_proba(gen, x_te)))))
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (first["y_te"], np.asarray(jnp.argmax(first["logits"], 1))), 1)
    per_class = confusion.diagonal() / confusion.sum(1)
    soft_acc, gen_acc = float(soft_count.mean() / n_test), float(gen_count.mean() / n_test)
    diff = (soft_count - gen_count) / n_test
    shuffled = " (negative control: softmax regression trained on permuted labels)" if config.shuffle_labels else ""
    return Result(
        title="Softmax regression (multi-class)",
        summary=(
            f"Softmax regression yᵢ = exp(zᵢ)/Σⱼ exp(zⱼ), z = Wx + b, trained with one-hot cross-entropy "
            f"(λ = {config.l2:g}) by `train.fit` (Adam, batch {config.batch_size}, {config.epochs} epochs) on the "
            f"8×8 digits{shuffled}, over {config.replicates} random splits ({first['n_train']} train / {n_test} "
            f"test, standardized): test accuracy {soft_acc:.1%} on average ({soft_count.min() / n_test:.1%} to "
            f"{soft_count.max() / n_test:.1%}). The probabilities sum to 1 (max gap {row_sum_gap:.1e}). The "
            f"generative model with a shared Σ has the same softmax-of-linear posterior with W, b in closed form "
            f"(softmax(Wx + b) matches its posterior to {form_gap:.1e}); it scores {gen_acc:.1%}: softmax "
            f"regression − Gaussian = {100 * diff.mean():+.1f} points on average over the splits (from "
            f"{100 * diff.min():+.1f} to {100 * diff.max():+.1f}). Hardest class for softmax regression on the "
            f"first split: {int(np.argmin(per_class))} ({per_class.min():.1%})."
        ),
        metrics={
            "softmax_test_accuracy": soft_acc,
            "softmax_train_accuracy": float(np.mean([r["fit"].history["train_accuracy"][-1] for r in runs])),
            "shared_gaussian_test_accuracy": gen_acc,
            "softmax_minus_gaussian": float(diff.mean()),
            "probability_row_sum_gap": row_sum_gap,
            "probability_min": prob_min,
            "gaussian_softmax_form_max_gap": form_gap,
        },
        replicates={
            "correct_minus_90_percent": soft_count - needed,
            "softmax_minus_gaussian_correct": soft_count - gen_count,
        },
        tables={
            "Confusion matrix on the first split (rows: true digit, columns: predicted)": table(
                ["true \\ pred", *map(str, range(k))], [[c, *confusion[c]] for c in range(k)]
            ),
            "Test accuracy per split": table(
                ["split", "softmax regression", "shared-Σ Gaussian", "difference (digits)"],
                [
                    [i, f"{s / n_test:.1%}", f"{g / n_test:.1%}", int(s - g)]
                    for i, (s, g) in enumerate(zip(soft_count, gen_count))
                ],
            ),
        },
        data={"params": first["fit"].params, "history": first["fit"].history, "epochs": config.epochs,
              "first_split_gaussian": float(gen_count[0] / n_test)},
    )


def figures(result: Result, out: Path) -> list[Path]:
    hist, epochs = result.data["history"], result.data["epochs"]
    softmax_acc = float(hist["val_accuracy"][-1])
    gen_acc = result.data["first_split_gaussian"]
    k = result.data["params"]["w"].shape[1]
    ep = np.arange(1, epochs + 1)
    fig_curves = plot.curves(
        out / "training_curves.png",
        {"train accuracy": (ep, hist["train_accuracy"]), "test accuracy": (ep, hist["val_accuracy"])},
        title=f"Softmax regression on digits, first split (test {softmax_acc:.1%})",
        xlabel="epoch",
        ylabel="accuracy",
        hlines={f"shared-Σ Gaussian {gen_acc:.1%}": gen_acc},
    )
    w = np.asarray(result.data["params"]["w"])  # (64, 10): one weight image per class

    def weight_image(c: int) -> Callable[[Any], None]:
        def draw(ax: Any) -> None:
            lim = np.abs(w).max()
            image = ax.imshow(w[:, c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight")
            ax.set_xticks([])
            ax.set_yticks([])

        return draw

    fig_weights = plot.panels(
        out / "class_weights.png",
        [weight_image(c) for c in range(k)],
        titles=[f"w for class {c}" for c in range(k)],
        suptitle="Softmax regression: the weights zᵢ = wᵢᵀx + bᵢ of each class (red +, blue −)",
        ncols=5,
    )
    return [fig_curves, fig_weights]
