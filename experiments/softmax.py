"""Multi-class classification: softmax regression on the digits, beside the shared-Σ generative model whose
posterior has the same softmax-of-linear form (SCOPE §2.10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, data, generative, losses, models, plot, train
from jaxml.report import ExperimentConfig, Result, table

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


def main(config: Config) -> Result:
    out = config.out_dir("softmax")
    ds = data.load("digits")
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(
        ds, key=jax.random.PRNGKey(config.seed), test_fraction=config.test_fraction
    )
    k = len(ds.target_names)
    epochs = config.epochs if not config.quick else max(5, config.epochs // 6)
    model = models.linear(x_tr.shape[1], k)
    accuracy = classification.accuracy_metric(model.apply)
    fit = train.fit(
        classification.objective(model.apply, "softmax", l2=config.l2),
        model.init(jax.random.PRNGKey(config.seed)),
        optax.adam(config.learning_rate),
        (jnp.asarray(x_tr, jnp.float32), jnp.asarray(y_tr)),
        key=config.seed,
        epochs=epochs,
        batch_size=config.batch_size,
        val_data=(jnp.asarray(x_te, jnp.float32), jnp.asarray(y_te)),
        metrics={"accuracy": accuracy},
        progress=False,
    )
    logits = model.apply(fit.params, jnp.asarray(x_te, jnp.float32))
    probs = classification.probabilities(logits)
    softmax_acc = float(losses.accuracy(logits, y_te))
    row_sum_gap = float(jnp.max(jnp.abs(probs.sum(1) - 1.0)))
    with jax.enable_x64(True):
        # The shared-Σ Gaussian model's posterior is also softmax(Wx + b); some pixels are constant: reg > 0.
        gen = generative.fit(x_tr, y_tr, "shared", reg=config.reg)
        gen_acc = float(np.mean(np.asarray(generative.predict(gen, x_te)) == y_te))
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_te, np.asarray(jnp.argmax(logits, 1))), 1)

    hist = fit.history
    ep = np.arange(1, epochs + 1)
    fig_curves = plot.curves(
        out / "training_curves.png",
        {"train accuracy": (ep, hist["train_accuracy"]), "test accuracy": (ep, hist["val_accuracy"])},
        title=f"Softmax regression on digits (test {softmax_acc:.1%})",
        xlabel="epoch",
        ylabel="accuracy",
        hlines={f"shared-Σ Gaussian {gen_acc:.1%}": gen_acc},
    )
    w = np.asarray(fit.params["w"])  # (64, 10): one weight image per class

    def weight_image(c: int) -> Callable[[Any], None]:
        def draw(ax: Any) -> None:
            lim = np.abs(w).max()
            ax.imshow(w[:, c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
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
    per_class = confusion.diagonal() / confusion.sum(1)
    return Result(
        title="Softmax regression (multi-class)",
        summary=(
            f"Softmax regression yᵢ = exp(zᵢ)/Σⱼ exp(zⱼ), z = Wx + b, trained with one-hot cross-entropy "
            f"(λ = {config.l2:g}) by `train.fit` (Adam, batch {config.batch_size}, {epochs} epochs) on the 8×8 digits "
            f"({len(y_tr)} train / {len(y_te)} test, standardized): test accuracy {softmax_acc:.1%}. The probabilities "
            f"sum to 1 (max gap {row_sum_gap:.1e}). The generative model with a shared Σ has the same "
            f"softmax-of-linear posterior with w, b from closed form; it scores {gen_acc:.1%}. Hardest class: "
            f"{int(np.argmin(per_class))} ({per_class.min():.1%})."
        ),
        metrics={
            "softmax_test_accuracy": softmax_acc,
            "softmax_train_accuracy": float(hist["train_accuracy"][-1]),
            "shared_gaussian_test_accuracy": gen_acc,
            "probability_row_sum_gap": row_sum_gap,
        },
        tables={
            "Confusion matrix (rows: true digit, columns: predicted)": table(
                ["true \\ pred", *map(str, range(k))], [[c, *confusion[c]] for c in range(k)]
            )
        },
        figures=[str(fig_curves), str(fig_weights)],
        data={"params": fit.params, "history": hist},
    )
