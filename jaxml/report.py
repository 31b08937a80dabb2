"""Experiment configs, lecture claims with computed verdicts, results and the Markdown report of a tour.

An experiment (a module of the ``experiments`` package) declares

* ``DESCRIPTION`` (one line) and ``SECTION`` (the syllabus section, ``"1.3"``);
* ``Config``, a frozen dataclass deriving from :class:`ExperimentConfig`, whose :meth:`~ExperimentConfig.quick`
  gives the smaller smoke-test run (the one place that decides quick mode) and whose ``DOMAINS`` declare, once,
  the values every field may take (:class:`Domain`; checked whenever a config is made, ``--set`` included);
* ``CLAIMS``, the lecture statements it tests, each a :class:`Claim`;
* ``compute(config) -> Result`` (numbers, tables, per-replicate effects; writes no file) and
  ``figures(result, out) -> list[path]`` (draws from the result through :mod:`jaxml.plot`).

**Claims are code**: a conclusion is never typed by hand. A claim is one of two kinds.

* *Exact* (an identity, a closed form, a construction): ``predicate(metrics) -> bool`` on numbers that do not
  depend on the seed beyond rounding (Adam equals momentum ∘ RMSProp to 1e-6; H of the toy saddle).
* *Empirical* (anything a different seed, start, split or draw could change): ``effect`` names a per-replicate
  array in :attr:`Result.replicates`, signed so that a positive value is the claim holding in that replicate
  (a paired difference where the replicates share data, a count minus the count needed — integers, never
  float fractions). The one rule of evidence, :func:`replicated`, decides: the claim is reproduced when, over
  at least :data:`MIN_REPLICATES` replicates, the mean effect exceeds :func:`bar` ``(tests)`` standard errors —
  3 for a single comparison, more when the claim takes a maximum over ``tests`` sizes or models (Šidák). No
  experiment sets its own bar. Each empirical claim names a negative control (``control``: the config
  overrides that remove the lecture's mechanism) on which the tests check that it is *not* reproduced.

:func:`evaluate` applies the claims; the verdict (*reproduced* / *not reproduced*), the numbers it read and the
evidence (replicates held, effect ± standard error) go to ``results.json`` and the table that opens
``report.md``. A claim also states what the project has established about it (``expected``; and
``quick=False`` when only the full-size run reproduces it), so the tests notice a verdict that changes.

Example:
    >>> from jaxml.report import Claim, evaluate, replicated, table
    >>> c = Claim("gd_reaches_lstsq", "1.3", "Gradient descent reaches the least-squares optimum.",
    ...           lambda m: m["gap"] < 1e-3, reads=("gap",))
    >>> v, = evaluate([c], {"gap": 2e-5, "other": 1.0})
    >>> v.holds, v.numbers, v.verdict
    (True, {'gap': 2e-05}, 'reproduced')
    >>> replicated([0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1, 1.0, 1.0])
    Evidence(n=10, held=10, mean=1.0, se=0.0365..., bar=3.0, holds=True)
    >>> replicated([0.5, -0.4, 0.3, -0.2, 0.1, 0.0, 0.2, -0.1, 0.4, -0.3]).holds  # a null effect
    False
    >>> print(table(["a", "b"], [[1, 2.5]]))
    | a | b |
    |---|---|
    | 1 | 2.5 |
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar, NamedTuple

import numpy as np

from jaxml import _checks
from jaxml.io import atomic_write_text

__all__ = [
    "MAX_COUNT",
    "MAX_SEED",
    "MIN_REPLICATES",
    "Claim",
    "Domain",
    "Evidence",
    "ExperimentConfig",
    "NonFiniteEffects",
    "Requirement",
    "Result",
    "Verdict",
    "bar",
    "choice",
    "flag",
    "integer",
    "number",
    "optional",
    "progress",
    "provenance",
    "replicated",
    "claims_table",
    "evaluate",
    "metrics_table",
    "nonfinite",
    "table",
    "tally",
    "text",
    "to_markdown",
    "tuple_of",
    "write_report",
    "write_results_json",
]


MIN_REPLICATES = 10
"""The fewest replicates an empirical claim is judged on; fewer and it is *not reproduced*."""

MAX_SEED = 2**32 - 1
"""The largest seed (``--seed`` and every ``Config.seed`` take [0, MAX_SEED])."""

MAX_COUNT = 10**7
"""The default upper bound of a count field (epochs, steps, sizes): far above any run, below overflow."""


class Domain(NamedTuple):
    """The values one :class:`ExperimentConfig` field may take.

    ``text`` says it in words (the error's "must be …") and ``check(value, name)``, built from
    :mod:`jaxml._checks`, raises ``TypeError`` (wrong kind) or ``ValueError`` (right kind, outside the domain).
    Build domains with :func:`integer`, :func:`number`, :func:`flag`, :func:`choice`, :func:`text`,
    :func:`tuple_of` and :func:`optional`.

    Attributes:
        text: the domain in words, completing "must be …" (``"an integer in [1, 10000000]"``).
        check: ``check(value, name)``; raises ``TypeError`` or ``ValueError`` when ``value`` lies outside.

    Example:
        >>> number(0, low_open=True).validate(-0.1, "learning_rate")
        Traceback (most recent call last):
        ...
        ValueError: learning_rate must be a finite number > 0, got -0.1
    """

    text: str
    check: Callable[[Any, str], Any]

    def validate(self, value: Any, name: str) -> None:
        """Raise ``TypeError``/``ValueError`` naming ``name``, this domain and ``value`` when it lies outside.

        Args:
            value: the value to check.
            name: the field's name, for the message.

        Raises:
            TypeError: if ``value`` is of the wrong kind (the message says "``name`` must be …, got …").
            ValueError: if ``value`` is of the right kind but outside the domain.
        """
        try:
            self.check(value, name)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name} must be {self.text}, got {_shown(value)}") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def integer(low: int = 1, high: int = MAX_COUNT) -> Domain:
    """An ``int`` (not a ``bool``) in [low, high]; the default is a count: 1 … :data:`MAX_COUNT`.

    Args:
        low: the smallest value allowed (inclusive).
        high: the largest value allowed (inclusive).

    Returns:
        A :class:`Domain` whose check raises ``TypeError`` for a non-integer (a ``bool`` included) and
        ``ValueError`` for an integer outside [low, high].

    Example:
        >>> integer().validate(99999999999999999999, "epochs")
        Traceback (most recent call last):
        ...
        ValueError: epochs must be an integer in [1, 10000000], got 99999999999999999999
    """
    return Domain(f"an integer in [{low}, {high}]", lambda v, n: _checks.integer(v, n, low=low, high=high))


def number(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Domain:
    """A finite real number (``int`` or ``float``, not ``bool``) in the interval given (open where asked).

    Args:
        low: the lower bound, or ``None`` for none.
        high: the upper bound, or ``None`` for none.
        low_open: exclude ``low`` itself (``> low`` instead of ``≥ low``).
        high_open: exclude ``high`` itself (``< high`` instead of ``≤ high``).

    Returns:
        A :class:`Domain` whose check raises ``TypeError`` for anything but a single real number (arrays and
        ``bool`` included) and ``ValueError`` for NaN, ±∞ or a number outside the interval.

    Example:
        >>> number(0, 1, high_open=True).text, number(0).text, number(0, low_open=True).text
        ('a finite number in [0, 1)', 'a finite number ≥ 0', 'a finite number > 0')
    """
    if low is not None and high is not None:
        where = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        where = f" {'>' if low_open else '≥'} {low:g}"
    elif high is not None:
        where = f" {'<' if high_open else '≤'} {high:g}"
    else:
        where = ""

    def check(v: Any, n: str) -> None:
        if not isinstance(v, (int, float, np.integer, np.floating)):  # no arrays: a field holds one number
            raise TypeError(n)
        _checks.real(v, n, low=low, high=high, low_open=low_open, high_open=high_open, allow_array=False)

    return Domain(f"a finite number{where}", check)


def flag() -> Domain:
    """``True`` or ``False`` (a ``bool``; 0 and 1 are refused).

    Returns:
        A :class:`Domain` whose check raises ``TypeError`` for anything but a ``bool`` (or ``numpy.bool_``).
    """

    def check(v: Any, n: str) -> None:
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(n)

    return Domain("true or false", check)


def choice(options: Sequence[str] | Callable[[], Sequence[str]], describe: str | None = None) -> Domain:
    """One of ``options``. A zero-argument callable is called once, on the first check (names read from a data
    file, which then costs nothing until a config is made); ``describe`` then says what they are in the message.

    Args:
        options: the allowed values, or a zero-argument callable returning them (called at most once).
        describe: the domain in words for the error message; defaults to "one of" and the options listed, and is
            required when ``options`` is a callable.

    Returns:
        A :class:`Domain` whose check raises ``ValueError`` for a value not among the options.

    Raises:
        TypeError: if ``options`` is a callable and ``describe`` is ``None``.

    Example:
        >>> choice(("relu", "identity")).validate("tanh", "activation")
        Traceback (most recent call last):
        ...
        ValueError: activation must be one of 'relu', 'identity', got 'tanh'
    """
    known: list[tuple[str, ...]] = []

    def values() -> tuple[str, ...]:
        if not known:
            known.append(tuple(options() if callable(options) else options))
        return known[0]

    if describe is None:
        if callable(options):
            raise TypeError("choice() with options read lazily needs describe= to say what they are")
        describe = "one of " + ", ".join(repr(o) for o in options)
    return Domain(describe, lambda v, n: _checks.one_of(v, n, values()))


def text() -> Domain:
    """A non-empty ``str``.

    Returns:
        A :class:`Domain` whose check raises ``TypeError`` for a non-``str`` and ``ValueError`` for an empty or
        all-whitespace string.
    """

    def check(v: Any, n: str) -> None:
        if not isinstance(v, str):
            raise TypeError(n)
        if not v.strip():
            raise ValueError(n)

    return Domain("a non-empty string", check)


def optional(item: Domain) -> Domain:
    """``None`` or a value of ``item``.

    Args:
        item: the domain of a value that is not ``None``.

    Returns:
        A :class:`Domain` that accepts ``None`` and otherwise checks with ``item``.
    """
    return Domain(f"None or {item.text}", lambda v, n: None if v is None else item.check(v, n))


def tuple_of(
    item: Domain,
    *,
    length: int | None = None,
    min_length: int = 1,
    increasing: bool = False,
    ordered: bool = False,
    includes: Any = None,
) -> Domain:
    """A tuple (or list) of values of ``item``: exactly ``length`` of them, or at least ``min_length``.

    ``increasing``: strictly increasing; ``ordered``: a (low, high) pair with low ≤ high; ``includes``: a value
    that must be among them.

    Args:
        item: the domain of every entry (an entry's error names it as ``name[i]``).
        length: the exact number of entries, or ``None`` for any number of at least ``min_length``.
        min_length: the fewest entries allowed when ``length`` is ``None``.
        increasing: require strictly increasing entries.
        ordered: require a (low, high) pair with low ≤ high (use with ``length=2``).
        includes: a value that must be among the entries, or ``None``.

    Returns:
        A :class:`Domain` whose check raises ``TypeError`` for anything but a tuple or list (or an entry of the
        wrong kind) and ``ValueError`` for a wrong length, an entry outside ``item`` or a broken ordering or
        inclusion.

    Example:
        >>> tuple_of(integer()).validate((), "units")
        Traceback (most recent call last):
        ...
        ValueError: units must be a non-empty tuple, each entry an integer in [1, 10000000], got ()
        >>> tuple_of(number(), length=2, ordered=True).text
        'a pair (low, high) with low ≤ high, each entry a finite number'
    """
    if length == 2 and ordered:
        size = "a pair (low, high) with low ≤ high"
    elif length is not None:
        size = f"a tuple of {length} entries"
    elif min_length <= 1:
        size = "a non-empty tuple"
    else:
        size = f"a tuple of at least {min_length} entries"
    extra = ", strictly increasing" if increasing else ""
    extra += f", including {includes!r}" if includes is not None else ""

    def check(v: Any, n: str) -> None:
        if not isinstance(v, (tuple, list)):
            raise TypeError(n)
        if (length is not None and len(v) != length) or len(v) < min_length:
            raise ValueError(n)
        for i, entry in enumerate(v):
            item.check(entry, f"{n}[{i}]")
        if increasing and any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError(n)
        if ordered and v[0] > v[1]:
            raise ValueError(n)
        if includes is not None and includes not in v:
            raise ValueError(n)

    return Domain(f"{size}{extra}, each entry {item.text}", check)


class Requirement(NamedTuple):
    """A constraint between fields of a config (``holds(config) -> bool``), stated in ``text``.

    Attributes:
        fields: the names of the fields it relates (their values are shown when it is broken).
        text: the constraint in words; the ``ValueError`` message when it is broken.
        holds: ``holds(config) -> bool``, whether a config meets it.
    """

    fields: tuple[str, ...]
    text: str
    holds: Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Fields every experiment takes: a seed, how many replicates its empirical claims get (seeds, starts,
    splits or draws derived from ``seed``; see :func:`replicated`), an output folder, and which variant this is
    ("full" or "quick").

    Subclasses list their own fields and, in the class variable ``QUICK``, the values their quick (smoke-test)
    variant changes; :meth:`quick` applies them. Code never branches on the variant: the quick run is just other
    values.

    **Every field declares its domain once**, in the class variable ``DOMAINS`` (field name → :class:`Domain`;
    a subclass's entries add to its bases'), and constraints between fields in ``REQUIRES`` (a tuple of
    :class:`Requirement`). :meth:`validate` checks them all when a config is made — by a Python caller,
    :meth:`quick`, ``dataclasses.replace`` or the command line's ``--set`` alike — so a value outside its domain
    is a ``ValueError`` (``TypeError`` for the wrong kind) naming the field before anything runs. A field without
    a domain is a ``TypeError``: no field goes unchecked.

    Attributes:
        seed: the run's seed, in [0, :data:`MAX_SEED`]; replicates derive their seeds from it.
        replicates: how many replicates (seeds, starts, splits or draws) an empirical claim gets, at least 2
            (fewer than :data:`MIN_REPLICATES` and no empirical claim can be reproduced).
        out: the output folder; each experiment writes under ``out/<name>`` (:meth:`out_dir`).
        variant: ``"full"`` or ``"quick"`` (set by :meth:`quick`).
        QUICK: class variable: field → value overrides of the quick (smoke-test) variant.
        DOMAINS: class variable: field name → :class:`Domain`; a subclass's entries add to its bases'.
        REQUIRES: class variable: the :class:`Requirement` constraints between fields.

    Example:
        >>> @dataclasses.dataclass(frozen=True)
        ... class Config(ExperimentConfig):
        ...     epochs: int = 1000
        ...     learning_rate: float = 0.1
        ...     QUICK = {"epochs": 100}
        ...     DOMAINS = {"epochs": integer(), "learning_rate": number(0, low_open=True)}
        >>> Config().quick()
        Config(seed=0, replicates=10, out='results', variant='quick', epochs=100, learning_rate=0.1)
        >>> Config(learning_rate=-0.1)
        Traceback (most recent call last):
        ...
        ValueError: learning_rate must be a finite number > 0, got -0.1
    """

    seed: int = 0
    replicates: int = MIN_REPLICATES
    out: str = "results"
    variant: str = "full"

    QUICK: ClassVar[Mapping[str, Any]] = {}
    DOMAINS: ClassVar[Mapping[str, Domain]] = {
        "seed": integer(0, MAX_SEED),
        "replicates": integer(2, 10**6),
        "out": text(),
        "variant": choice(("full", "quick")),
    }
    REQUIRES: ClassVar[tuple[Requirement, ...]] = ()

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def domains(cls) -> dict[str, Domain]:
        """Every field's domain: the ``DOMAINS`` of this class and its bases (a subclass's entry wins).

        Returns:
            A dict from field name to :class:`Domain`.
        """
        out: dict[str, Domain] = {}
        for klass in reversed(cls.__mro__):
            out.update(vars(klass).get("DOMAINS", {}))
        return out

    def validate(self) -> None:
        """Check every field against its domain and every ``REQUIRES`` constraint.

        Raises:
            ValueError: if a field lies outside its domain, or a constraint between fields is broken; the
                message names the field(s), the domain and the value.
            TypeError: if a field is of the wrong kind, or a field declares no domain (or ``DOMAINS`` names
                something that is not a field).
        """
        cls = type(self)
        domains = cls.domains()
        names = [f.name for f in dataclasses.fields(self)]
        missing = [n for n in names if n not in domains]
        unknown = sorted(set(domains) - set(names))
        if missing or unknown:
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__}.DOMAINS must declare a domain for every field: "
                f"missing {missing}, not fields {unknown}"
            )
        for name in names:
            domains[name].validate(getattr(self, name), name)
        for req in cls.REQUIRES:
            if not req.holds(self):
                got = ", ".join(f"{f}={getattr(self, f)!r}" for f in req.fields)
                raise ValueError(f"{req.text}, got {got}")

    def quick(self) -> ExperimentConfig:
        """This config with the ``QUICK`` overrides applied (``variant="quick"``).

        Returns:
            A new config of the same class, validated like any other.
        """
        return dataclasses.replace(self, variant="quick", **dict(self.QUICK))

    @property
    def is_quick(self) -> bool:
        """Whether this is the quick (smoke-test) variant."""
        return self.variant == "quick"

    def out_dir(self, name: str) -> Path:
        """The folder for experiment ``name``'s figures, created on demand.

        Args:
            name: the experiment's name (a sub-folder of ``out``).

        Returns:
            The path ``out/name``, which exists on return.

        Raises:
            OSError: if the folder cannot be created.
        """
        path = Path(self.out) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


_Z = 3.0  # the project's one bar: 3 standard errors for a single one-sided comparison


def bar(tests: int = 1) -> float:
    """The number of standard errors the mean effect must exceed.

    ``tests = 1`` gives 3 (a one-sided false-alarm rate α = Φ(−3) ≈ 0.00135 under a normal null). A claim that
    takes the best of ``tests`` sizes or models keeps the same family-wise rate (Šidák):
    α₁ = 1 − (1 − α)^(1/tests), bar = Φ⁻¹(1 − α₁).

    Args:
        tests: how many sizes or models the claim's maximum ranges over (1: a single comparison).

    Returns:
        The bar in standard errors, a ``float``: 3.0 for one test, larger for more.

    Raises:
        ValueError: if ``tests`` is not a positive ``int`` (a ``bool`` included).

    Example:
        >>> bar(1), round(bar(12), 2)
        (3.0, 3.69)
    """
    if not isinstance(tests, int) or isinstance(tests, bool) or tests < 1:
        raise ValueError(f"tests must be a positive int, got {tests!r}")
    if tests == 1:
        return _Z
    alpha = NormalDist().cdf(-_Z)
    return NormalDist().inv_cdf((1 - alpha) ** (1 / tests))


class Evidence(NamedTuple):
    """What :func:`replicated` found: ``held`` of ``n`` replicates had a positive effect; the mean effect
    ± its standard error ``se``; the ``bar`` (standard errors) it had to clear; and whether it did.

    Attributes:
        n: the number of replicates.
        held: how many of them had a positive effect.
        mean: the mean effect ē.
        se: its standard error s/√n (``inf`` for a single replicate).
        bar: the standard errors the mean had to exceed (:func:`bar`).
        holds: whether the claim is reproduced: n ≥ :data:`MIN_REPLICATES`, ē > 0 and ē > bar · se.
    """

    n: int
    held: int
    mean: float
    se: float
    bar: float
    holds: bool

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (an infinite ``se`` becomes ``None``).

        Returns:
            A dict with the keys ``n``, ``held``, ``mean``, ``se``, ``bar`` and ``holds``.
        """
        out = self._asdict()
        out["se"] = self.se if math.isfinite(self.se) else None  # one replicate has no standard error
        return out

    def describe(self) -> str:
        """``"held in 9/10, effect 0.12 ± 0.01 (bar 3 SE)"``; says so when there were too few replicates.

        Returns:
            The sentence, a ``str``.
        """
        few = f"; too few replicates ({self.n} < {MIN_REPLICATES})" if self.n < MIN_REPLICATES else ""
        return (
            f"held in {self.held}/{self.n}, effect {_fmt(self.mean)} ± {_fmt(self.se)} (bar {self.bar:.3g} SE){few}"
        )


class NonFiniteEffects(ValueError, FloatingPointError):
    """A run's per-replicate effects hold NaN or ±∞ (a diverged run): a ``ValueError`` and, like
    :class:`jaxml.train.DivergenceError`, a ``FloatingPointError``, so the command line reports the divergence
    as the run's result instead of judging claims on numbers that are not numbers."""


def replicated(effects: Sequence[float] | np.ndarray, *, tests: int = 1) -> Evidence:
    """The project's one rule of evidence for an empirical claim.

    With effects e₁ … eₙ (positive: the claim holds in that replicate), mean ē and standard error
    s/√n (s with n − 1 degrees of freedom), the claim is reproduced when n ≥ :data:`MIN_REPLICATES` and
    ē > :func:`bar` ``(tests)`` · s/√n (and ē > 0 when every replicate gives the same value).

    Args:
        effects: one finite number per replicate (integers for counts).
        tests: how many sizes or models the claim's maximum ranges over (1: a single comparison).

    Returns:
        An :class:`Evidence`.

    Raises:
        ValueError: if ``effects`` is not a non-empty 1-D array, or ``tests`` is not a positive ``int``.
        NonFiniteEffects: if an effect is NaN or ±∞ (a ``ValueError`` and a ``FloatingPointError``).
    """
    e = np.asarray(effects, dtype=np.float64)
    if e.ndim != 1 or e.size == 0:
        raise ValueError(f"effects must be a non-empty 1-D array (one value per replicate), got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        bad = [i for i, v in enumerate(e.tolist()) if not math.isfinite(v)]
        raise NonFiniteEffects(
            f"effects must be finite, got {len(bad)} non-finite of {e.size} (first at replicate {bad[0]}: {e[bad[0]]})"
        )
    n = int(e.size)
    mean = float(e.mean())
    se = float(e.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    b = bar(tests)
    holds = n >= MIN_REPLICATES and mean > 0 and mean > b * se
    return Evidence(n, int(np.sum(e > 0)), mean, se, b, bool(holds))


class Claim(NamedTuple):
    """A lecture statement an experiment tests, as code.

    Attributes:
        id: a short identifier, unique within the experiment.
        section: the syllabus section (course §, e.g. ``"1.3"``) the statement comes from.
        statement: the lecture's claim, in words.
        predicate: exact claims: ``predicate(metrics) -> bool``, whether this run's numbers show it. ``None``
            for an empirical claim.
        reads: the metric names the predicate reads (recorded beside the verdict).
        expected: whether the full-size run reproduces it (what the project has established; a change is a
            regression the tests catch). ``False`` documents an honest miss.
        quick: whether the quick variant reproduces it as well (``False``: only the full run shows it).
        explain: optional ``explain(metrics) -> str``, a sentence formatted from the numbers saying why the
            verdict is what it is (required in spirit for a claim that is not reproduced).
        effect: empirical claims: the name of the per-replicate effect in :attr:`Result.replicates` (positive:
            the claim holds in that replicate), judged by :func:`replicated`.
        tests: how many sizes or models the effect is the best of (raises the bar; see :func:`bar`): an ``int``,
            or the name of the metric that holds this run's count, where the config sets it (the sizes a
            ``--set`` chose, the quick variant's fewer models).
        control: empirical claims: the config overrides that remove the lecture's mechanism (the negative
            control: ``{"momentum": 0.0}``, shuffled labels, …); the tests check the claim fails there.
    """

    id: str
    section: str
    statement: str
    predicate: Callable[[Mapping[str, float]], bool] | None = None
    reads: tuple[str, ...] = ()
    expected: bool = True
    quick: bool = True
    explain: Callable[[Mapping[str, float]], str] | None = None
    effect: str | None = None
    tests: int | str = 1
    control: Mapping[str, Any] | None = None

    @property
    def empirical(self) -> bool:
        """Whether the claim is empirical (it names an ``effect``) rather than exact."""
        return self.effect is not None


class Verdict(NamedTuple):
    """A claim evaluated on one run: ``holds`` and the numbers it read.

    Attributes:
        id: the claim's identifier.
        section: the syllabus section (course §).
        statement: the lecture's claim, in words.
        holds: whether this run's numbers reproduce it (computed, never copied from ``expected``).
        numbers: the metrics the claim read, by name (``None`` where not reached).
        expected: whether the project expects it to be reproduced in a run of this variant.
        detail: the claim's ``explain`` sentence for this run, or ``""``.
        evidence: for an empirical claim, the :class:`Evidence`; ``None`` for an exact one.
    """

    id: str
    section: str
    statement: str
    holds: bool
    numbers: dict[str, float]
    expected: bool
    detail: str
    evidence: Evidence | None = None

    @property
    def verdict(self) -> str:
        """``"reproduced"`` or ``"not reproduced"``, from ``holds``."""
        return "reproduced" if self.holds else "not reproduced"

    def to_json(self) -> dict[str, Any]:
        """The verdict as a JSON-ready dict, as ``results.json`` records it.

        Returns:
            A dict with the fields, plus ``verdict``, ``kind`` (``"exact"`` or ``"empirical"``) and the evidence
            as a dict (or ``None``).
        """
        return {
            "id": self.id,
            "section": self.section,
            "statement": self.statement,
            "holds": self.holds,
            "verdict": self.verdict,
            "expected": self.expected,
            "kind": "empirical" if self.evidence is not None else "exact",
            "evidence": self.evidence.to_json() if self.evidence is not None else None,
            "numbers": self.numbers,
            "detail": self.detail,
        }


def evaluate(
    claims: Sequence[Claim],
    metrics: Mapping[str, float],
    *,
    replicates: Mapping[str, Any] | None = None,
    quick: bool = False,
) -> list[Verdict]:
    """Each claim's verdict: exact claims by their predicate on ``metrics``, empirical ones by
    :func:`replicated` on their effect in ``replicates``; ``expected`` is the claim's (or its ``quick`` field in
    a quick run).

    ``holds`` is always computed from this run's numbers, whatever the claim's ``expected`` says; a quick run
    (``quick=True``) changes only ``expected``: ``c.expected and (c.quick or not quick)``, so a claim declared
    ``quick=False`` (only the full-size run reproduces it) is expected in a full run and not in a quick one.

    A claim reading a metric (or an effect) the run did not produce raises ``KeyError`` naming it: a claim can
    never pass by accident. A claim with both or neither of ``predicate`` and ``effect`` is a ``TypeError``.

    Args:
        claims: the experiment's claims.
        metrics: the run's numbers by name (what exact claims' predicates and every claim's ``reads`` see).
        replicates: the run's per-replicate effect arrays by name (what empirical claims' ``effect`` names).
        quick: whether this is a quick run (changes only each verdict's ``expected``).

    Returns:
        One :class:`Verdict` per claim, in the order of ``claims``.

    Raises:
        TypeError: if a claim has both or neither of ``predicate`` and ``effect``.
        KeyError: if a claim reads a metric, or names an effect, that the run did not produce.
        ValueError: if an effect is not a non-empty 1-D array, or a claim's ``tests`` is not a positive ``int``.
        NonFiniteEffects: if an effect holds NaN or ±∞.
    """
    replicates = replicates or {}
    out = []
    for c in claims:
        if (c.predicate is None) == (c.effect is None):
            raise TypeError(f"claim {c.id!r} needs exactly one of predicate (exact) and effect (empirical)")
        missing = [k for k in c.reads if k not in metrics]
        if c.empirical and c.effect not in replicates:
            missing.append(f"replicates[{c.effect!r}]")
        if isinstance(c.tests, str) and c.tests not in metrics:
            missing.append(c.tests)
        if missing:
            raise KeyError(f"claim {c.id!r} reads metrics the run did not produce: {missing}")
        evidence = replicated(replicates[c.effect], tests=_tests(c, metrics)) if c.empirical else None
        holds = evidence.holds if evidence is not None else bool(c.predicate(metrics))
        detail = c.explain(metrics) if c.explain is not None else ""
        expected = c.expected and (c.quick or not quick)
        numbers = {k: _number(metrics[k]) for k in c.reads}
        out.append(Verdict(c.id, c.section, c.statement, holds, numbers, expected, detail, evidence))
    return out


def _tests(claim: Claim, metrics: Mapping[str, float]) -> int:
    """A claim's count of comparisons: its ``tests``, or this run's value of the metric it names."""
    if not isinstance(claim.tests, str):
        return claim.tests
    value = metrics[claim.tests]
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"claim {claim.id!r}: metric {claim.tests!r} must hold a whole count of tests, got {value!r}")
    return int(value)


def _number(v: Any) -> float | None:
    return None if v is None else float(v)


def tally(verdicts: Sequence[Verdict]) -> tuple[int, int]:
    """(reproduced, not reproduced), counted from each verdict's computed ``holds``, never from ``expected``.

    Args:
        verdicts: the verdicts to count.

    Returns:
        A pair of ``int``: how many verdicts hold, and how many do not.
    """
    held = sum(v.holds for v in verdicts)
    return held, len(verdicts) - held


@dataclasses.dataclass
class Result:
    """What an experiment's ``compute`` returns.

    Attributes:
        title: a heading for the report (formatted from the run's numbers where it states any).
        summary: what the run did and found, in a few sentences formatted from its numbers (Markdown).
        metrics: our numbers, by name (floats).
        lecture: the lecture's published numbers, by the same names as in ``metrics`` where comparable.
        tables: captioned Markdown tables (use :func:`table`).
        claims: the verdicts of the experiment's lecture claims (:func:`evaluate`).
        replicates: per-replicate arrays by name (one value per seed, start, split or draw); an empirical
            claim's ``effect`` names one of them.
        figures: paths of the PNGs written (filled in from the experiment's ``figures``).
        data: anything else a caller may want (arrays, histories); not written to the report.
    """

    title: str
    summary: str = ""
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    lecture: dict[str, float] = dataclasses.field(default_factory=dict)
    tables: dict[str, str] = dataclasses.field(default_factory=dict)
    claims: list[Verdict] = dataclasses.field(default_factory=list)
    replicates: dict[str, Any] = dataclasses.field(default_factory=dict)
    figures: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


def _fmt(v: Any) -> str:
    # a string is already text: "2.10" (a § number) must not become the float 2.1
    if v is None:
        return "—"  # not measured / not reached: never printed as a number
    if isinstance(v, (str, bool)):
        return str(v)
    if isinstance(v, int):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(f)  # should not happen: results keep None for "not reached"
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        return f"{f:.3e}"
    return f"{f:.4g}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats get 4 significant digits.

    Numbers of magnitude ≥ 1e5 or below 1e-3 are written in scientific notation, ``None`` as "—", and a ``|``
    inside a cell is escaped so that it cannot split the cell.

    Args:
        header: the column headings.
        rows: the rows, each a sequence of cells (numbers, strings or ``None``) as long as ``header``.

    Returns:
        The table as Markdown text (a header line, a separator line and one line per row).
    """
    cell = lambda v: _fmt(v).replace("|", "\\|")  # a bare | inside a cell (P(C₁|x)) would split it
    lines = ["| " + " | ".join(str(h).replace("|", "\\|") for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def metrics_table(metrics: Mapping[str, float], lecture: Mapping[str, float]) -> str:
    """Our numbers with the lecture's beside them where it gives one.

    Args:
        metrics: our numbers, by name.
        lecture: the lecture's published numbers, by the same names; may be empty.

    Returns:
        A Markdown table (:func:`table`) with columns quantity and jaxml, and a lecture column ("—" where the
        lecture gives no number) when ``lecture`` is not empty.
    """
    if lecture:
        rows = [[k, _fmt(v), _fmt(lecture[k]) if k in lecture else "—"] for k, v in metrics.items()]
        return table(["quantity", "jaxml", "lecture"], rows)
    return table(["quantity", "jaxml"], [[k, _fmt(v)] for k, v in metrics.items()])


def _claim_line(v: Verdict) -> str:
    mark = "✅ reproduced" if v.holds else "❌ not reproduced"
    detail = f" {v.detail}" if v.detail else ""
    evidence = f"; {v.evidence.describe()}" if v.evidence is not None else ""
    numbers = _numbers(v.numbers)
    tail = f" ({numbers}{evidence})" if numbers else (f" ({evidence[2:]})" if evidence else "")
    return f"- {mark} — §{v.section} {v.statement}{detail}{tail}"


def to_markdown(name: str, result: Result, seconds: float, root: Path) -> str:
    """One experiment's section of the report; figure paths are made relative to ``root``.

    Args:
        name: the experiment's name (shown beside the title).
        result: what the experiment's ``compute`` returned, its ``figures`` filled in.
        seconds: how long the experiment ran, in seconds.
        root: the folder ``report.md`` is written to (figure links are relative to it).

    Returns:
        The section as Markdown: title, summary, run time, claims, metrics table, tables and figures.
    """
    parts = [f"## {result.title} (`{name}`)", "", result.summary.strip(), "", f"*Ran in {seconds:.1f} s.*", ""]
    if result.claims:
        parts += ["**Lecture claims**", ""]
        parts += [_claim_line(v) for v in result.claims]
        parts.append("")
    if result.metrics:
        parts += [metrics_table(result.metrics, result.lecture), ""]
    for caption, tbl in result.tables.items():
        parts += [f"**{caption}**", "", tbl, ""]
    for fig in result.figures:
        rel = os.path.relpath(fig, root)
        parts += [f"![{Path(fig).stem}]({rel})", ""]
    return "\n".join(parts)


def progress(message: str) -> None:
    """One line on stderr from inside a long experiment (``   … trained 4 of 16 networks``), so a tour is never
    silent for minutes; the report and ``results.json`` are unaffected.

    Args:
        message: what the experiment is doing now.
    """
    print(f"   … {message}", file=sys.stderr, flush=True)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """The checkout's commit (``+dirty`` when it has uncommitted changes), or ``None`` outside a git clone."""
    here = Path(__file__).resolve().parent.parent
    try:
        run = lambda *a: subprocess.run(
            ["git", *a], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """What produced a run: package versions, the git commit (when there is one), Python, platform, device.

    Returns:
        A dict with ``packages`` (name → version, ``None`` when not installed), ``git_commit`` (the commit,
        ``+dirty`` with uncommitted changes, or ``None`` outside a git clone), ``python``, ``platform`` and
        ``device`` (JAX's first device's ``platform`` and ``kind``, and the device ``count``).

    Example:
        >>> sorted(provenance())
        ['device', 'git_commit', 'packages', 'platform', 'python']
    """
    import jax  # only here: the report's formatting does not need JAX

    dev = jax.devices()[0]
    packages = ("jaxml", "jax", "jaxlib", "optax", "numpy", "scipy", "scikit-learn", "matplotlib")
    return {
        "packages": {p: _version(p) for p in packages},
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": {"platform": dev.platform, "kind": dev.device_kind, "count": jax.device_count()},
    }


def nonfinite(value: Any, where: str = "") -> str | None:
    """Where the first NaN or ±∞ in ``value`` (nested mappings, sequences, arrays, numbers) is, as
    ``"results.metrics.loss = nan"``, or ``None`` when every number is finite.

    Args:
        value: the value to search.
        where: the path of ``value`` below ``results`` (e.g. ``".metrics"``), prefixed to the place reported.

    Returns:
        A ``str`` naming the first non-finite number and its value, or ``None``.

    Example:
        >>> nonfinite({"metrics": {"a": 1.0, "loss": float("nan")}})
        'results.metrics.loss = nan'
        >>> nonfinite({"a": [1, 2.5, None]}) is None
        True
    """
    try:
        _strict(value, where)
    except _NonFiniteValue as err:
        return err.args[0]
    return None


class _NonFiniteValue(ValueError):
    pass


def _strict(value: Any, where: str = "") -> Any:
    """``value`` as strict JSON: arrays to lists; a NaN or ±∞ anywhere is a ``ValueError`` naming where."""
    if isinstance(value, Mapping):
        return {str(k): _strict(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype")):
        return _strict(np.asarray(value).tolist(), where)
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, np.bool_):  # not a bool: json.dumps would fail on it (str() would write "True")
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise _NonFiniteValue(f"results{where} = {float(value)}")
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def write_results_json(
    path: Path,
    name: str,
    result: Result,
    seconds: float,
    config: ExperimentConfig | None = None,
    provenance_: Mapping[str, Any] | None = None,
) -> None:
    """The numbers of one run as strict JSON (figures as paths), written atomically.

    Records the whole ``config`` (after any ``--set``), the seed, the per-replicate effects and the run's
    provenance (:func:`provenance`). Raises ``ValueError`` on a NaN or ±∞ anywhere — "not reached" is
    ``null`` — before anything is written.

    Args:
        path: where to write the JSON file.
        name: the experiment's name.
        result: what the experiment's ``compute`` returned.
        seconds: how long the experiment ran, in seconds.
        config: the run's config (recorded whole, with its seed), or ``None``.
        provenance_: what produced the run; ``None`` to record :func:`provenance` now.

    Raises:
        ValueError: if any number in the payload is NaN or ±∞ (the message names where).
        OSError: if the file or its folder cannot be written (:func:`jaxml.io.atomic_write_text`).
    """
    payload = {
        "name": name,
        "title": result.title,
        "summary": result.summary,
        "tables": dict(result.tables),
        "seconds": seconds,
        "seed": config.seed if config is not None else None,
        "config": dataclasses.asdict(config) if config is not None else None,
        "provenance": dict(provenance_) if provenance_ is not None else provenance(),
        "metrics": {k: _number(v) for k, v in result.metrics.items()},
        "lecture": {k: _number(v) for k, v in result.lecture.items()},
        "claims": [v.to_json() for v in result.claims],
        "replicates": result.replicates,
        "figures": [str(f) for f in result.figures],
    }
    try:
        strict = _strict(payload)
    except _NonFiniteValue as err:
        raise ValueError(f"{err}: keep None for 'not reached', never NaN or ∞ (bare NaN is not JSON)") from None
    atomic_write_text(path, json.dumps(strict, indent=2, allow_nan=False))


def _numbers(numbers: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {_fmt(v)}" for k, v in numbers.items())


def claims_table(verdicts: Mapping[str, Sequence[Verdict]]) -> str:
    """The table that opens the report: experiment, §, lecture claim, verdict, the evidence (how many replicates
    held, the effect ± its standard error and the bar; "exact" for an identity) and the numbers behind it.

    The verdict column shows the computed ``holds`` (what this run's numbers say), never the claim's ``expected``
    (what the project has established): a claim that stops (or starts) reproducing shows it here.

    Args:
        verdicts: each experiment's verdicts, by experiment name (in the order the rows are wanted).

    Returns:
        The table as Markdown (:func:`table`), one row per verdict.
    """
    rows = []
    for name, vs in verdicts.items():
        for v in vs:
            mark = "✅ reproduced" if v.holds else "❌ **not reproduced**"
            if v.evidence is None:
                evidence = "exact"
            else:
                e = v.evidence
                evidence = f"{e.held}/{e.n} held; {_fmt(e.mean)} ± {_fmt(e.se)} (bar {e.bar:.3g} SE)"
            rows.append([f"`{name}`", v.section, v.statement, mark, evidence, _numbers(v.numbers)])
    return table(["experiment", "§", "lecture claim", "verdict", "evidence (replicates)", "numbers"], rows)


def write_report(
    path: Path, sections: Sequence[str], header: str, verdicts: Mapping[str, Sequence[Verdict]] | None = None
) -> Path:
    """The tour's ``report.md``: a header, the claims table with its tally, then every experiment's section.

    Args:
        path: where to write the report.
        sections: each experiment's section (:func:`to_markdown`).
        header: the report's opening text (title, what it shows, provenance).
        verdicts: each experiment's verdicts, by experiment name, for the claims table; ``None`` or empty for
            no table.

    Returns:
        ``path`` as a :class:`~pathlib.Path`, written atomically.

    Raises:
        OSError: if the file or its folder cannot be written (:func:`jaxml.io.atomic_write_text`).
    """
    parts = [header.rstrip()]
    if verdicts:
        held, missed = tally([v for vs in verdicts.values() for v in vs])
        parts.append(f"**{held} of {held + missed} lecture claims reproduced, {missed} not reproduced.**")
        parts.append(claims_table(verdicts))
    return atomic_write_text(path, "\n\n".join(parts + list(sections)) + "\n")
