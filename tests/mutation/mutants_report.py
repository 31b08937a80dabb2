"""Planted bugs in the report, the command line, the writers and the figure check (ids R1 …).

Stage 1 is ``tests/test_report_behaviour.py`` (about 10 s): each of these breaks a promise it pins.
"""

from __future__ import annotations

from mutant import M

REPORT = "jaxml/report.py"
CLI = "experiments/__main__.py"
IO = "jaxml/io.py"
PLOT = "jaxml/plot.py"
BEHAVIOUR = ["tests/test_report_behaviour.py"]

MUTATIONS = [
    # ---- report.py: verdicts, evidence, the table, results.json
    M(
        "R1 claims table marks the expected flag",
        REPORT,
        [('mark = "✅ reproduced" if v.holds else "❌ **not', 'mark = "✅ reproduced" if v.expected else "❌ **not')],
        BEHAVIOUR,
    ),
    M(
        "R2 section line marks the expected flag",
        REPORT,
        [('mark = "✅ reproduced" if v.holds else "❌ not', 'mark = "✅ reproduced" if v.expected else "❌ not')],
        BEHAVIOUR,
    ),
    M(
        "R3 tally counts the expected flags",
        REPORT,
        [("held = sum(v.holds for v in verdicts)", "held = sum(v.expected for v in verdicts)")],
        BEHAVIOUR,
    ),
    M(
        "R4 evaluate: full-only claims expected in a full run too",
        REPORT,
        [("expected = c.expected and (c.quick or not quick)", "expected = c.expected and c.quick")],
        BEHAVIOUR,
    ),
    M(
        "R5 evaluate: an exact verdict is the expected flag",
        REPORT,
        [("else bool(c.predicate(metrics))", "else c.expected")],
        BEHAVIOUR,
    ),
    M(
        "R6 evaluate: the bar ignores the claim's tests",
        REPORT,
        [("replicated(replicates[c.effect], tests=c.tests)", "replicated(replicates[c.effect])")],
        BEHAVIOUR,
    ),
    M(
        "R7 evaluate: numbers record every metric",
        REPORT,
        [("_number(metrics[k]) for k in c.reads}", "_number(metrics[k]) for k in metrics}")],
        BEHAVIOUR,
    ),
    M(
        "R8 replicated: a zero effect counts as held",
        REPORT,
        [("int(np.sum(e > 0))", "int(np.sum(e >= 0))")],
        BEHAVIOUR,
    ),
    M(
        "R9 bar: Bonferroni instead of Šidák",
        REPORT,
        [("NormalDist().inv_cdf((1 - alpha) ** (1 / tests))", "NormalDist().inv_cdf(1 - alpha / tests)")],
        BEHAVIOUR,
    ),
    M(
        "R10 describe: exactly MIN_REPLICATES called too few",
        REPORT,
        [("if self.n < MIN_REPLICATES else", "if self.n <= MIN_REPLICATES else")],
        BEHAVIOUR,
    ),
    M(
        "R11 evidence JSON keeps an infinite standard error",
        REPORT,
        [('out["se"] = self.se if math.isfinite(self.se) else None', 'out["se"] = self.se')],
        BEHAVIOUR,
    ),
    M(
        "R12 results.json holds = expected",
        REPORT,
        [('"holds": self.holds,', '"holds": self.expected,')],
        BEHAVIOUR,
    ),
    M(
        "R13 strict JSON lets ±inf through",
        REPORT,
        [("        if not math.isfinite(value):\n", "        if math.isnan(value):\n")],
        BEHAVIOUR,
    ),
    M(
        "R14 nonfinite names a list entry as a field",
        REPORT,
        [('_strict(v, f"{where}[{i}]")', '_strict(v, f"{where}.{i}")')],
        BEHAVIOUR,
    ),
    M(
        "R15 claims table: held and n swapped",
        REPORT,
        [('evidence = f"{e.held}/{e.n} held;', 'evidence = f"{e.n}/{e.held} held;')],
        BEHAVIOUR,
    ),
    # ---- experiments/__main__.py: the seed, --set parsing and scoping, error paths
    M(
        "R16 --seed never reaches the config",
        CLI,
        [("config = module.Config(seed=seed, out=str(args.out))", "config = module.Config(out=str(args.out))")],
        BEHAVIOUR,
    ),
    M(
        "R17 --seed 0 refused (a count's domain, from 1)",
        CLI,
        [
            (
                'ExperimentConfig.domains()["seed"].validate(value, "the seed")',
                'jaxml.report.integer(1, MAX_SEED).validate(value, "the seed")',
            )
        ],
        BEHAVIOUR,
    ),
    M(
        "R18 --set splits at the last =",
        CLI,
        [('name, sep, value = item.partition("=")', 'name, sep, value = item.rpartition("=")')],
        BEHAVIOUR,
    ),
    M(
        "R19 NAME.field applied to the other experiments",
        CLI,
        [("if dot and target != name:", "if dot and target == name:")],
        BEHAVIOUR,
    ),
    M(
        "R20 a single unmatched --set is ignored",
        CLI,
        [("    if unused:\n", "    if len(unused) > 1:\n")],
        BEHAVIOUR,
    ),
    M(
        "R21 --seed and --set seed= both accepted",
        CLI,
        [("if len(given) + (args.seed is not None) > 1:", "if len(given) > 1:")],
        BEHAVIOUR,
    ),
    M(
        "R22 --set booleans case-sensitive",
        CLI,
        [("lowered = text.lower()", "lowered = text")],
        BEHAVIOUR,
    ),
    M(
        "R23 --set None case-sensitive",
        CLI,
        [('if text.lower() == "none" and', 'if text == "none" and')],
        BEHAVIOUR,
    ),
    M(
        "R24 --set out= accepted",
        CLI,
        [('if name not in fields or name in ("out", "variant"):', "if name not in fields:")],
        BEHAVIOUR,
    ),
    M(
        "R25 diverged run expects full-only claims in a quick run",
        CLI,
        [
            (
                "expected = lambda c: c.expected and (c.quick or not config.is_quick)",
                "expected = lambda c: c.expected",
            )
        ],
        BEHAVIOUR,
    ),
    M(
        "R26 --set 1 is not true",
        CLI,
        [('if lowered in ("true", "1", "yes"):', 'if lowered in ("true", "yes"):')],
        BEHAVIOUR,
    ),
    # ---- io.py: atomic writes, modes, the writer lock, the cache folder
    M(
        "R27 written files executable (0o777 & ~umask)",
        IO,
        [("0o666 & ~_umask())  # mkstemp", "0o777 & ~_umask())  # mkstemp")],
        BEHAVIOUR,
    ),
    M(
        "R28 umask read as decimal",
        IO,
        [("return int(line.split()[1], 8)", "return int(line.split()[1])")],
        BEHAVIOUR,
    ),
    M(
        "R29 failed write leaves its temporary file",
        IO,
        [("            os.unlink(tmp)\n", "            pass\n")],
        BEHAVIOUR,
    ),
    M(
        "R30 failed rename names the temporary file",
        IO,
        [("err.filename in (None, tmp)", "err.filename is None")],
        BEHAVIOUR,
    ),
    M(
        "R31 writer lock shared",
        IO,
        [("fcntl.LOCK_EX | fcntl.LOCK_NB", "fcntl.LOCK_SH | fcntl.LOCK_NB")],
        BEHAVIOUR,
    ),
    M(
        "R32 lock holder written over an old longer one",
        IO,
        [("        os.ftruncate(fd, 0)\n", "")],
        BEHAVIOUR,
    ),
    M(
        "R33 writer lock never released",
        IO,
        [("        os.close(fd)  # closing", "        pass  # closing")],
        BEHAVIOUR,
    ),
    M(
        "R34 cache off only in lower case",
        IO,
        [('if value.lower() in ("0", "off", "false", "no"):', 'if value in ("0", "off", "false", "no"):')],
        BEHAVIOUR,
    ),
    # ---- plot.py: the figure check
    M(
        "R35 a line passes when any point is finite",
        PLOT,
        [
            (
                "if not np.all(np.isfinite(np.asarray(line.get_xydata(), dtype=float))):",
                "if not np.any(np.isfinite(np.asarray(line.get_xydata(), dtype=float))):",
            )
        ],
        BEHAVIOUR,
    ),
    M(
        "R36 markers pass when any is finite",
        PLOT,
        [
            (
                "if offsets.size and not np.all(np.isfinite(offsets)):",
                "if offsets.size and not np.any(np.isfinite(offsets)):",
            )
        ],
        BEHAVIOUR,
    ),
    M(
        "R37 bars pass when any corner is finite",
        PLOT,
        [("not np.all(np.isfinite(box.get_points()))", "not np.any(np.isfinite(box.get_points()))")],
        BEHAVIOUR,
    ),
    M(
        "R38 a blank (spaces) legend entry passes",
        PLOT,
        [("if not t.get_text().strip()]", "if not t.get_text()]")],
        BEHAVIOUR,
    ),
    M(
        "R39 figure-level legends unchecked",
        PLOT,
        [("for ax in fig.axes] + list(fig.legends):", "for ax in fig.axes]:")],
        BEHAVIOUR,
    ),
    M(
        "R40 every image refused",
        PLOT,
        [
            (
                "if np.ma.count_masked(values) > np.ma.count_masked(",
                "if np.ma.count_masked(values) >= np.ma.count_masked(",
            )
        ],
        BEHAVIOUR,
    ),
]
