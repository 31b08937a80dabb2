"""Multi-class classification: softmax regression on the digits, beside the shared-Σ generative model whose
posterior has the same softmax-of-linear form (SCOPE §2.10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, data, generative, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

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

    QUICK = {"epochs": 30}


def _discriminative_better(m: Mapping[str, float]) -> bool:
    # Paired over the same test digits: the difference in per-digit correctness, more than 2 standard errors.
    return m["softmax_minus_gaussian"] > 2 * m["softmax_minus_gaussian_se"]


CLAIMS = (
    Claim(
        "softmax_classifies",
        "2.10",
        "Softmax regression yᵢ = exp(zᵢ)/Σⱼexp(zⱼ), z = Wx + b, trained with one-hot targets and cross-entropy, "
        "is a multi-class classifier: its outputs are probabilities and it classifies the 10 digits.",
        lambda m: m["softmax_test_accuracy"] >= 0.9 and m["probability_row_sum_gap"] < 1e-5,
        reads=("softmax_test_accuracy", "probability_row_sum_gap"),
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
        "shared-Σ Gaussian on the digits' test set, by more than 2 paired standard errors.",
        _discriminative_better,
        reads=(
            "softmax_test_accuracy",
            "shared_gaussian_test_accuracy",
            "softmax_minus_gaussian",
            "softmax_minus_gaussian_se",
        ),
        explain=lambda m: (
            f"Test accuracy {m['softmax_test_accuracy']:.1%} (softmax) against "
            f"{m['shared_gaussian_test_accuracy']:.1%} "
            f"(shared-Σ Gaussian): a paired difference of {m['softmax_minus_gaussian']:+.3f} ± "
            f"{m['softmax_minus_gaussian_se']:.3f} (standard error over test digits), "
            f"{m['softmax_minus_gaussian'] / m['softmax_minus_gaussian_se']:.1f} standard errors (bar: 2; "
            "generative_vs_discriminative asks 3 for its leads)."
        ),
    ),
)


def compute(config: Config) -> Result:
    ds = data.load("digits")
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(
        ds, key=jax.random.PRNGKey(config.seed), test_fraction=config.test_fraction
    )
    k = len(ds.target_names)
    epochs = config.epochs
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
        gen_pred = np.asarray(generative.predict(gen, x_te))
        gen_acc = float(np.mean(gen_pred == y_te))
        # Closed form: wₖ = Σ⁻¹μᵏ, bₖ = −½μᵏᵀΣ⁻¹μᵏ + ln P(Cₖ); softmax(Wx + b) against the model's posterior.
        mu = np.asarray(gen.means)
        sigma_inv_mu = np.linalg.solve(np.asarray(gen.covariance[0]), mu.T)  # (D, K)
        b = -0.5 * np.sum(mu.T * sigma_inv_mu, axis=0) + np.log(np.asarray(gen.priors))
        closed = np.asarray(jax.nn.softmax(jnp.asarray(x_te @ sigma_inv_mu + b), axis=1))
        form_gap = float(np.max(np.abs(closed - np.asarray(generative.predict_proba(gen, x_te)))))
    soft_correct = np.asarray(jnp.argmax(logits, 1)) == y_te
    diff = soft_correct.astype(float) - (gen_pred == y_te)
    diff_se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_te, np.asarray(jnp.argmax(logits, 1))), 1)

    per_class = confusion.diagonal() / confusion.sum(1)
    return Result(
        title="Softmax regression (multi-class)",
        summary=(
            f"Softmax regression yᵢ = exp(zᵢ)/Σⱼ exp(zⱼ), z = Wx + b, trained with one-hot cross-entropy "
            f"(λ = {config.l2:g}) by `train.fit` (Adam, batch {config.batch_size}, {epochs} epochs) on the 8×8 digits "
            f"({len(y_tr)} train / {len(y_te)} test, standardized): test accuracy {softmax_acc:.1%}. The probabilities "
            f"sum to 1 (max gap {row_sum_gap:.1e}). The generative model with a shared Σ has the same "
            f"softmax-of-linear posterior with W, b in closed form (softmax(Wx + b) matches its posterior to "
            f"{form_gap:.1e}); it scores {gen_acc:.1%}: softmax regression − Gaussian = {100 * diff.mean():+.1f} ± "
            f"{100 * diff_se:.1f} points (paired standard error over the test digits). "
            f"Hardest class for softmax regression: {int(np.argmin(per_class))} "
            f"({per_class.min():.1%})."
        ),
        metrics={
            "softmax_test_accuracy": softmax_acc,
            "softmax_train_accuracy": float(fit.history["train_accuracy"][-1]),
            "shared_gaussian_test_accuracy": gen_acc,
            "softmax_minus_gaussian": float(diff.mean()),
            "softmax_minus_gaussian_se": diff_se,
            "probability_row_sum_gap": row_sum_gap,
            "gaussian_softmax_form_max_gap": form_gap,
        },
        tables={
            "Confusion matrix (rows: true digit, columns: predicted)": table(
                ["true \\ pred", *map(str, range(k))], [[c, *confusion[c]] for c in range(k)]
            )
        },
        data={"params": fit.params, "history": fit.history, "epochs": epochs},
    )


def figures(result: Result, out: Path) -> list[Path]:
    hist, epochs = result.data["history"], result.data["epochs"]
    softmax_acc = result.metrics["softmax_test_accuracy"]
    gen_acc = result.metrics["shared_gaussian_test_accuracy"]
    k = result.data["params"]["w"].shape[1]
    ep = np.arange(1, epochs + 1)
    fig_curves = plot.curves(
        out / "training_curves.png",
        {"train accuracy": (ep, hist["train_accuracy"]), "test accuracy": (ep, hist["val_accuracy"])},
        title=f"Softmax regression on digits (test {softmax_acc:.1%})",
        xlabel="epoch",
        ylabel="accuracy",
        hlines={f"shared-Σ Gaussian {gen_acc:.1%}": gen_acc},
    )
    w = np.asarray(result.data["params"]["w"])  # (64, 10): one weight image per class

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
    return [fig_curves, fig_weights]
