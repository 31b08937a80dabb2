"""Learning-rate schedules ηᵗ: every schedule of jaxml.optim.schedules, and an MLP trained by Adam with a constant
η, a cosine decay and a warm-up + cosine decay over a sweep of peak η and several seeds (SCOPE §4.7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, optim, plot, train
from jaxml.optim import schedules
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "All learning-rate schedules; Adam on digits with constant η, decay, warm-up + decay, over η and seeds"
SECTION = "4.7"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    etas: tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # peak η: Adam's usual 1e-3 up to 100× that
    hidden: tuple[int, ...] = (256, 256)
    epochs: int = 12
    batch_size: int = 32
    seeds: int = 3
    warmup_fraction: float = 0.1

    QUICK = {"etas": (3e-3, 1e-2, 1e-1), "hidden": (128, 128), "epochs": 8}


CONSTANT, DECAY, WARMUP = "constant η", "cosine decay", "warm-up + cosine decay"


def _separated(m: dict, better: str, worse: str) -> bool:
    """mean ± std of the final training loss at each schedule's best η do not overlap, ``better`` below."""
    top = m[f"best_loss_{better}"] + m[f"best_loss_std_{better}"]
    return top < m[f"best_loss_{worse}"] - m[f"best_loss_std_{worse}"]


def _reads(a: str, b: str) -> tuple[str, ...]:
    return tuple(f"best_{q}_{x}" for x in (a, b) for q in ("loss", "loss_std", "eta", "test_accuracy"))


CLAIMS = (
    Claim(
        "decay_helps",
        "4.7",
        "Learning-rate decay helps: near the end a smaller η settles deeper — at each schedule's best peak η, "
        "the cosine decay ends with a lower training loss than a constant η (mean ± std over seeds apart).",
        lambda m: _separated(m, "decay", "constant"),
        reads=_reads("decay", "constant"),
    ),
    Claim(
        "warmup_helps",
        "4.7",
        "Warm-up (η rising, then falling, as used for BERT and Transformers) helps: at each schedule's best "
        "peak η, warm-up + cosine ends with a lower training loss than the cosine decay alone (mean ± std over "
        "seeds apart).",
        lambda m: _separated(m, "warmup", "decay"),
        reads=(*_reads("warmup", "decay"), "test_examples"),
        expected=False,
        explain=lambda m: (
            f"At their best η, warm-up + cosine ends at a training loss of {m['best_loss_warmup']:.3g} ± "
            f"{m['best_loss_std_warmup']:.2g} (test accuracy {m['best_test_accuracy_warmup']:.2f}%), the cosine "
            f"decay alone at {m['best_loss_decay']:.3g} ± {m['best_loss_std_decay']:.2g} "
            f"({m['best_test_accuracy_decay']:.2f}%; one test image is {100 / m['test_examples']:.2f}%): "
            + (
                "warm-up's mean is lower, but the two mean ± std ranges overlap"
                if m["best_loss_warmup"] < m["best_loss_decay"]
                else "warm-up's mean is not lower"
            )
            + (
                "; at a well-chosen η this small MLP trains as well without warm-up"
                if not _separated(m, "decay", "warmup")
                else ""
            )
            + " (the lecture's use is BERT and Transformers, which this experiment does not train)."
        ),
    ),
    Claim(
        "warmup_tames_large_eta",
        "4.7",
        "Warm-up lets Adam start at a large peak η: at the largest η of the sweep, warm-up + cosine ends with a "
        "lower training loss than the cosine decay alone (mean ± std over seeds apart).",
        lambda m: (
            m["large_eta_loss_warmup"] + m["large_eta_loss_std_warmup"]
            < m["large_eta_loss_decay"] - m["large_eta_loss_std_decay"]
        ),
        reads=(
            "large_eta",
            "large_eta_loss_warmup",
            "large_eta_loss_std_warmup",
            "large_eta_loss_decay",
            "large_eta_loss_std_decay",
            "large_eta_test_accuracy_warmup",
            "large_eta_test_accuracy_decay",
        ),
    ),  # fmt: skip
)


def _gallery(steps: int, eta: float) -> dict[str, optax.Schedule]:
    w = steps // 10
    return {
        "constant": schedules.constant(eta),
        "exponential decay": schedules.exponential_decay(eta, 0.1, steps),
        "step decay": schedules.step_decay(eta, 0.5, steps // 5),
        "inverse √t": schedules.inverse_sqrt_decay(eta, steps / 50),
        "polynomial (p = 2)": schedules.polynomial_decay(eta, 0.0, steps, power=2.0),
        "cosine": schedules.cosine_decay(eta, steps),
        "linear warm-up + linear decay": schedules.linear_warmup_decay(eta, w, steps),
        "linear warm-up + cosine": schedules.linear_warmup(schedules.cosine_decay(eta, steps - w), w),
        "Transformer (d = 64, W = steps/10)": schedules.transformer(64, w, scale=eta * np.sqrt(64 * w)),
    }


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    epochs, seeds, etas = config.epochs, config.seeds, np.asarray(config.etas, dtype=float)
    digits = data.load("digits")
    (x_tr, y_tr), (x_te, y_te) = data.train_test_split(digits.x / 16.0, digits.y, key=key)
    train_set, test_set = data.to_device(x_tr, y_tr), data.to_device(x_te, y_te)
    steps = epochs * (len(y_tr) // config.batch_size)
    warm = max(1, int(config.warmup_fraction * steps))

    gallery = _gallery(steps, float(etas.max()))
    t = np.arange(steps)
    values = jax.jit(lambda ts: {k: jax.vmap(s)(ts) for k, s in gallery.items()})(jnp.asarray(t))  # one compile
    curves = {k: (t, np.asarray(values[k])) for k in gallery}

    model = models.mlp(64, config.hidden, 10)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])
    factories = {  # peak η -> optimizer; η is traced, so every (η, seed) pair is one run of one compiled sweep
        CONSTANT: lambda eta: optim.adam(eta),
        DECAY: lambda eta: optim.adam(schedules.cosine_decay(eta, steps)),
        WARMUP: lambda eta: optim.adam(schedules.linear_warmup(schedules.cosine_decay(eta, steps - warm), warm)),
    }
    k_init, k_batch = jax.random.split(jax.random.fold_in(key, 1))
    # the same seeds (initializations and batch orders) at every η and for every schedule: paired comparisons
    init = jax.jit(jax.vmap(model.init))(jax.random.split(k_init, seeds))
    init = jax.tree.map(lambda a: jnp.tile(a, (len(etas),) + (1,) * (a.ndim - 1)), init)
    keys = jnp.tile(jax.random.split(k_batch, seeds), (len(etas), 1))
    lrs = jnp.asarray(np.repeat(etas, seeds))
    histories, diverged = {}, {}
    for name, factory in factories.items():
        res = train.fit_sweep(
            objective, init, factory, train_set, keys=keys, epochs=epochs, batch_size=config.batch_size,
            learning_rates=lrs, val_data=test_set, metrics={"accuracy": accuracy},
        )  # fmt: skip
        histories[name] = {k: v.reshape(len(etas), seeds, epochs) for k, v in res.history.items()}
        diverged[name] = np.asarray(res.diverged_epoch).reshape(len(etas), seeds) >= 0

    final_loss = {k: h["train_loss"][:, :, -1] for k, h in histories.items()}  # (η, seed); NaN if diverged
    final_acc = {k: 100 * h["val_accuracy"][:, :, -1] for k, h in histories.items()}
    mean_loss = {k: np.where(np.isnan(v).any(1), np.inf, np.nanmean(v, 1)) for k, v in final_loss.items()}
    best = {k: int(np.argmin(v)) for k, v in mean_loss.items()}
    short = {CONSTANT: "constant", DECAY: "decay", WARMUP: "warmup"}
    metrics: dict[str, float] = {}
    for k, i in best.items():
        metrics[f"best_eta_{short[k]}"] = float(etas[i])
        metrics[f"best_loss_{short[k]}"] = float(final_loss[k][i].mean())
        metrics[f"best_loss_std_{short[k]}"] = float(final_loss[k][i].std())
        metrics[f"best_test_accuracy_{short[k]}"] = float(final_acc[k][i].mean())
        metrics[f"best_test_accuracy_std_{short[k]}"] = float(final_acc[k][i].std())
        metrics[f"diverged_runs_{short[k]}"] = float(diverged[k].sum())
    metrics["test_examples"] = float(len(y_te))
    metrics["large_eta"] = float(etas[-1])
    for k in (DECAY, WARMUP):
        metrics[f"large_eta_loss_{short[k]}"] = float(np.nanmean(final_loss[k][-1]))
        metrics[f"large_eta_loss_std_{short[k]}"] = float(np.nanstd(final_loss[k][-1]))
        metrics[f"large_eta_test_accuracy_{short[k]}"] = float(np.nanmean(final_acc[k][-1]))
    rows = [
        [k, f"{eta:g}", final_loss[k][j].mean(), final_loss[k][j].std(), final_acc[k][j].mean(),
         final_acc[k][j].std(), int(diverged[k][j].sum())]
        for k in histories
        for j, eta in enumerate(etas)
    ]  # fmt: skip
    m = metrics
    summary = (
        "Every schedule in `jaxml.optim.schedules`, drawn over the same run length; then an MLP "
        f"64-{'-'.join(map(str, config.hidden))}-10 trained on scikit-learn's digits ({len(y_tr)} training / "
        f"{len(y_te)} test images, x/16) by Adam, batch {config.batch_size}, {epochs} epochs ({steps} updates), "
        f"with a constant η, a cosine decay to 0, and a {warm}-update linear warm-up before the cosine decay; "
        f"peak η ∈ {{{', '.join(f'{e:g}' for e in etas)}}} × {seeds} seeds (the same initializations and batch "
        "orders everywhere), all in one compiled `fit_sweep` per schedule. At each schedule's best η (lowest mean "
        "final training loss): "
        + "; ".join(
            f"{k}: η = {m[f'best_eta_{s}']:g}, loss {m[f'best_loss_{s}']:.3g} ± {m[f'best_loss_std_{s}']:.2g}, "
            f"test accuracy {m[f'best_test_accuracy_{s}']:.2f} ± {m[f'best_test_accuracy_std_{s}']:.2f}%"
            for k, s in short.items()
        )
        + f" (mean ± std over seeds). At the largest peak η = {etas[-1]:g}: cosine decay alone "
        f"{m['large_eta_loss_decay']:.3g} ± {m['large_eta_loss_std_decay']:.2g} (test "
        f"{m['large_eta_test_accuracy_decay']:.1f}%), with warm-up {m['large_eta_loss_warmup']:.3g} ± "
        f"{m['large_eta_loss_std_warmup']:.2g} ({m['large_eta_test_accuracy_warmup']:.1f}%)."
    )
    return Result(
        title="Learning-rate scheduling: decay and warm-up for Adam on digits",
        summary=summary,
        metrics=metrics,
        tables={
            f"Adam on digits after {epochs} epochs (mean and std over {seeds} seeds)": table(
                ["schedule", "peak η", "train loss", "± std", "test accuracy (%)", "± std", "diverged"], rows
            )
        },
        data={"histories": histories, "schedules": curves, "etas": etas, "best": best, "final_loss": final_loss,
              "final_acc": final_acc, "steps": steps, "hidden": config.hidden},
    )  # fmt: skip


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    etas, best, histories = d["etas"], d["best"], d["histories"]
    colors = {k: f"C{i}" for i, k in enumerate(histories)}

    def against_eta(values: dict, ylabel: str, logy: bool):
        def draw(ax):
            for k, v in values.items():
                ax.errorbar(etas, np.nanmean(v, 1), yerr=np.nanstd(v, 1), fmt="o-", capsize=3, color=colors[k],
                            label=k)  # fmt: skip
            ax.set_xscale("log")
            if logy:
                ax.set_yscale("log")
            ax.set_xlabel("peak η")
            ax.set_ylabel(ylabel)

        return draw

    def curves_at_best(ax):
        for k, h in histories.items():
            loss = h["train_loss"][best[k]]
            ep = np.arange(1, loss.shape[-1] + 1)
            ax.semilogy(ep, loss.mean(0), "o-", color=colors[k], label=k)
            ax.fill_between(ep, loss.min(0), loss.max(0), color=colors[k], alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (band: min–max over seeds)")

    return [
        plot.curves(
            out / "schedules.png",
            d["schedules"],
            title=f"Learning-rate schedules over {d['steps']} updates (peak η = {etas.max():g})",
            xlabel="update t",
            ylabel="ηᵗ",
            legend_loc="below",
        ),
        plot.panels(
            out / "adam_on_digits.png",
            [
                against_eta(d["final_loss"], "final training loss", True),
                against_eta(d["final_acc"], "final test accuracy (%)", False),
                curves_at_best,
            ],
            titles=["training loss vs peak η (± std)", "test accuracy vs peak η (± std)",
                    "training loss at each schedule's best η"],
            suptitle=f"MLP 64-{'-'.join(map(str, d['hidden']))}-10 on digits, Adam",
            ncols=3,
            shared_legend=True,
        ),
    ]  # fmt: skip
