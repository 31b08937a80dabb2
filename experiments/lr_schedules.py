"""Learning-rate schedules ηᵗ: every schedule of jaxml.optim.schedules, and an MLP trained by Adam with a constant
η, a cosine decay and a warm-up + cosine decay over a sweep of peak η and ≥ 10 paired replicates (course §4.7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, optim, plot, train
from jaxml.optim import schedules
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, progress, table, tuple_of

DESCRIPTION = "All learning-rate schedules; Adam on digits with constant η, decay, warm-up + decay, over η, paired"
SECTION = "4.7"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    etas: tuple[float, ...] = (3e-3, 1e-2, 1e-1)  # peak η: around Adam's best on digits, and 10× that
    hidden: tuple[int, ...] = (256, 256)
    epochs: int = 12
    batch_size: int = 32
    warmup_fraction: float = 0.1  # 0 removes the warm-up (the warm-up claims' negative control)
    decay_end: float = 0.0  # the cosine decays to this fraction of its peak; 1 removes the decay (the control)
    replicates: int = 20  # decay's gain is a few standard errors of one replicate: 10 left z near 5 at some seeds

    QUICK = {"etas": (1e-2, 1e-1), "hidden": (128, 128), "epochs": 6}

    DOMAINS = {
        "etas": tuple_of(number(0, low_open=True)),
        "hidden": tuple_of(integer(1, 10**4)),
        "epochs": integer(),
        "batch_size": integer(1, 1000),  # at most the digits training rows
        "warmup_fraction": number(0, 1, high_open=True),
        "decay_end": number(0, 1),
    }


CONSTANT, DECAY, WARMUP = "constant η", "cosine decay", "warm-up + cosine decay"
SHORT = {CONSTANT: "constant", DECAY: "decay", WARMUP: "warmup"}
NO_DECAY = {"decay_end": 1.0}  # the cosine "decay" stays at its peak: it is the constant η
NO_WARMUP = {"warmup_fraction": 0.0}  # the warm-up + cosine is the cosine alone
#: "helps" at the best η means a material gain: a final training loss this many times lower. A paired test
#: with no margin detects gains of a few percent whose sign depends on the network and the number of epochs
MATERIAL = 1.25


def _reads(a: str, b: str) -> tuple[str, ...]:
    return tuple(f"best_{q}_{x}" for x in (a, b) for q in ("loss", "eta", "test_accuracy"))


CLAIMS = (
    Claim(
        "decay_helps",
        "4.7",
        "Learning-rate decay helps: near the end a smaller η settles deeper — at each schedule's best peak η, "
        "the cosine decay ends with a lower training loss than a constant η (paired by seed: ln L_constant − "
        "ln L_decay).",
        reads=_reads("decay", "constant"),
        effect="log_loss_constant_minus_decay",
        control=NO_DECAY,
    ),
    Claim(
        "warmup_helps",
        "4.7",
        "Warm-up (η rising, then falling, as used for BERT and Transformers) helps: at each schedule's best "
        f"peak η, warm-up + cosine ends with a materially lower training loss — at least {MATERIAL:g}× lower — "
        f"than the cosine decay alone (paired by seed: ln L_decay − ln L_warm-up − ln {MATERIAL:g}).",
        reads=(*_reads("warmup", "decay"), "test_examples"),
        effect="log_loss_decay_minus_warmup_minus_margin",
        control=NO_WARMUP,
        expected=False,
        explain=lambda m: (
            f"At their best η, warm-up + cosine ends at a training loss of {m['best_loss_warmup']:.3g} "
            f"(geometric mean over seeds; test accuracy {m['best_test_accuracy_warmup']:.2f}%), the cosine decay "
            f"alone at {m['best_loss_decay']:.3g} ({m['best_test_accuracy_decay']:.2f}%; one test image is "
            f"{100 / m['test_examples']:.2f}%), a ratio of {m['best_loss_decay'] / m['best_loss_warmup']:.3g}: at a "
            "well-chosen η this small MLP trains about as well without warm-up (whose mean gain, when there is "
            "one, is small and changes sign with the network's size and length of training); warm-up matters at "
            "a large η (next claim). The lecture's use is BERT and Transformers, which this experiment does not "
            "train."
        ),
    ),
    Claim(
        "warmup_tames_large_eta",
        "4.7",
        "Warm-up lets Adam start at a large peak η: at the largest η of the sweep, warm-up + cosine ends with a "
        "lower training loss than the cosine decay alone (paired by seed: ln L_decay − ln L_warm-up).",
        reads=(
            "large_eta",
            "large_eta_loss_warmup",
            "large_eta_loss_decay",
            "large_eta_test_accuracy_warmup",
            "large_eta_test_accuracy_decay",
        ),
        effect="large_eta_log_loss_decay_minus_warmup",
        control=NO_WARMUP,
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


def _last_finite(history: np.ndarray) -> np.ndarray:
    """The last finite value along the epoch axis: a run that diverged is frozen at its last finite state
    (``fit_sweep``), so this is where it ended; a run that stayed finite gives its final epoch."""
    finite = np.isfinite(history)
    last = history.shape[-1] - 1 - np.argmax(finite[..., ::-1], axis=-1)
    return np.take_along_axis(history, last[..., None], axis=-1)[..., 0]


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    epochs, reps, etas = config.epochs, config.replicates, np.asarray(config.etas, dtype=float)
    digits = data.load("digits")
    (x_tr, y_tr), (x_te, y_te) = data.train_test_split(digits.x / 16.0, digits.y, key=key)
    train_set, test_set = data.to_device(x_tr, y_tr), data.to_device(x_te, y_te)
    steps = epochs * (len(y_tr) // config.batch_size)
    warm = int(config.warmup_fraction * steps)  # 0: no warm-up (the control)

    gallery = _gallery(steps, float(etas.max()))
    t = np.arange(steps)
    values = jax.jit(lambda ts: {k: jax.vmap(s)(ts) for k, s in gallery.items()})(jnp.asarray(t))  # one compile
    curves = {k: (t, np.asarray(values[k])) for k in gallery}

    model = models.mlp(64, config.hidden, 10)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])
    end = config.decay_end
    decay = lambda eta, n: schedules.cosine_decay(eta, n, end_value=end * eta)
    factories = {  # peak η -> optimizer; η is traced, so every (η, replicate) pair is one run of one compiled sweep
        CONSTANT: lambda eta: optim.adam(eta),
        DECAY: lambda eta: optim.adam(decay(eta, steps)),
        WARMUP: lambda eta: optim.adam(schedules.linear_warmup(decay(eta, steps - warm), warm)),
    }
    k_init, k_batch = jax.random.split(jax.random.fold_in(key, 1))
    # the same replicates (initializations and batch orders) at every η and for every schedule: paired effects
    init = jax.jit(jax.vmap(model.init))(jax.random.split(k_init, reps))
    init = jax.tree.map(lambda a: jnp.tile(a, (len(etas),) + (1,) * (a.ndim - 1)), init)
    keys = jnp.tile(jax.random.split(k_batch, reps), (len(etas), 1))
    lrs = jnp.asarray(np.repeat(etas, reps))
    histories, diverged = {}, {}
    for name, factory in factories.items():
        progress(f"{name}: {len(etas)} peak η × {reps} replicates in one sweep")
        res = train.fit_sweep(
            objective, init, factory, train_set, keys=keys, epochs=epochs, batch_size=config.batch_size,
            learning_rates=lrs, val_data=test_set, metrics={"accuracy": accuracy},
        )  # fmt: skip
        histories[name] = {k: np.asarray(v).reshape(len(etas), reps, epochs) for k, v in res.history.items()}
        diverged[name] = np.asarray(res.diverged_epoch).reshape(len(etas), reps) >= 0

    # (η, replicate): a diverged run's loss is where it froze (its last finite epoch), and it is counted
    final_loss = {k: _last_finite(h["train_loss"]) for k, h in histories.items()}
    final_acc = {k: 100 * _last_finite(h["val_accuracy"]) for k, h in histories.items()}
    log_loss = {k: np.log(v) for k, v in final_loss.items()}
    # each schedule's best peak η: the lowest geometric-mean final loss among the η where no replicate diverged
    score = {k: np.where(diverged[k].any(1), np.inf, log_loss[k].mean(1)) for k in histories}
    best = {k: int(np.argmin(v)) for k, v in score.items()}
    at_best = {k: log_loss[k][best[k]] for k in histories}
    metrics: dict[str, float] = {}
    for k, i in best.items():
        s = SHORT[k]
        metrics[f"best_eta_{s}"] = float(etas[i])
        metrics[f"best_loss_{s}"] = float(np.exp(log_loss[k][i].mean()))
        metrics[f"best_test_accuracy_{s}"] = float(final_acc[k][i].mean())
        metrics[f"diverged_runs_{s}"] = int(diverged[k].sum())
    metrics["test_examples"] = int(len(y_te))
    metrics["large_eta"] = float(etas[-1])
    for k in (DECAY, WARMUP):
        metrics[f"large_eta_loss_{SHORT[k]}"] = float(np.exp(log_loss[k][-1].mean()))
        metrics[f"large_eta_test_accuracy_{SHORT[k]}"] = float(final_acc[k][-1].mean())
    replicates = {
        "log_loss_constant_minus_decay": at_best[CONSTANT] - at_best[DECAY],
        "log_loss_decay_minus_warmup_minus_margin": at_best[DECAY] - at_best[WARMUP] - np.log(MATERIAL),
        "large_eta_log_loss_decay_minus_warmup": log_loss[DECAY][-1] - log_loss[WARMUP][-1],
    }
    rows = [
        [k, f"{eta:g}", float(np.exp(log_loss[k][j].mean())), float(log_loss[k][j].std(ddof=1)),
         final_acc[k][j].mean(), final_acc[k][j].std(ddof=1), int(diverged[k][j].sum())]
        for k in histories
        for j, eta in enumerate(etas)
    ]  # fmt: skip
    m = metrics
    effects = "; ".join(
        f"{name} {np.mean(v):+.3g} ± {np.std(v, ddof=1) / np.sqrt(len(v)):.2g} ({int(np.sum(v > 0))}/{len(v)} > 0)"
        for name, v in replicates.items()
    )
    summary = (
        "Every schedule in `jaxml.optim.schedules`, drawn over the same run length; then an MLP "
        f"64-{'-'.join(map(str, config.hidden))}-10 trained on scikit-learn's digits ({len(y_tr)} training / "
        f"{len(y_te)} test images, x/16) by Adam, batch {config.batch_size}, {epochs} epochs ({steps} updates), "
        f"with a constant η, a cosine decay to {'0' if end == 0 else f'{end:g}·η'}, and a {warm}-update linear "
        "warm-up before the cosine "
        f"decay; peak η ∈ {{{', '.join(f'{e:g}' for e in etas)}}} × {reps} replicates (initializations and batch "
        "orders drawn from the seed, the same at every η and for every schedule, so that schedules compare paired "
        "by replicate), all in one compiled `fit_sweep` per schedule. At each schedule's best η (lowest geometric "
        "mean final training loss): "
        + "; ".join(
            f"{k}: η = {m[f'best_eta_{s}']:g}, loss {m[f'best_loss_{s}']:.3g}, "
            f"test accuracy {m[f'best_test_accuracy_{s}']:.2f}%"
            for k, s in SHORT.items()
        )
        + f". At the largest peak η = {etas[-1]:g}: cosine decay alone {m['large_eta_loss_decay']:.3g} (test "
        f"{m['large_eta_test_accuracy_decay']:.1f}%), with warm-up {m['large_eta_loss_warmup']:.3g} "
        f"({m['large_eta_test_accuracy_warmup']:.1f}%). Paired effects (mean ± standard error over replicates): "
        f"{effects}. Runs that diverged: "
        + ", ".join(f"{k} {m[f'diverged_runs_{s}']}" for k, s in SHORT.items())
        + "."
    )
    return Result(
        title="Learning-rate scheduling: decay and warm-up for Adam on digits",
        summary=summary,
        metrics=metrics,
        replicates=replicates,
        tables={
            f"Adam on digits after {epochs} epochs ({reps} replicates; loss: geometric mean and std of ln L)": table(
                ["schedule", "peak η", "train loss", "std ln L", "test accuracy (%)", "± std", "diverged"], rows
            )
        },
        data={"histories": histories, "schedules": curves, "etas": etas, "best": best, "final_loss": final_loss,
              "final_acc": final_acc, "diverged": diverged, "steps": steps, "hidden": config.hidden},
    )  # fmt: skip


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    etas, best, histories = d["etas"], d["best"], d["histories"]
    names = list(histories)
    colors = {k: f"C{i}" for i, k in enumerate(names)}
    # three schedules share every η: each gets its own marker, line style and a small sideways shift (×1.08
    # on the log axis), so that no marker or error bar hides another's
    markers = dict(zip(names, ("o", "s", "^")))
    styles = dict(zip(names, ("-", "--", ":")))
    shift = {k: 1.08 ** (i - 1) for i, k in enumerate(names)}

    def against_eta(values: dict, ylabel: str, logy: bool):
        def draw(ax):
            for k, v in values.items():
                keep = ~d["diverged"][k].any(1)  # an η where a replicate diverged is not drawn (none so far)
                v = np.log(v) if logy else v
                mean, sd = v.mean(1), v.std(1, ddof=1)
                y, err = (np.exp(mean), [np.exp(mean) - np.exp(mean - sd), np.exp(mean + sd) - np.exp(mean)]) if (
                    logy) else (mean, sd)  # fmt: skip
                ax.errorbar(etas[keep] * shift[k], np.asarray(y)[keep], yerr=np.asarray(err)[..., keep],
                            fmt=markers[k] + styles[k], capsize=3, color=colors[k], label=k, alpha=0.85,
                            markersize=6)  # fmt: skip
            ax.set_xscale("log")
            if logy:
                ax.set_yscale("log")
            ax.set_xlabel("peak η (schedules shifted slightly apart)")
            ax.set_ylabel(ylabel)

        return draw

    def curves_at_best(ax):
        for k, h in histories.items():
            loss = h["train_loss"][best[k]]
            ep = np.arange(1, loss.shape[-1] + 1)
            ax.semilogy(ep, np.exp(np.log(loss).mean(0)), markers[k] + styles[k], color=colors[k], label=k,
                        markersize=5, alpha=0.85)  # fmt: skip
            ax.fill_between(ep, loss.min(0), loss.max(0), color=colors[k], alpha=0.15)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (band: min–max)")

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
            titles=["final training loss vs peak η (geometric mean, × e^±std)", "test accuracy vs peak η (± std)",
                    "training loss at each schedule's best η"],
            suptitle=f"MLP 64-{'-'.join(map(str, d['hidden']))}-10 on digits, Adam",
            ncols=3,
            shared_legend=True,
        ),
    ]  # fmt: skip
