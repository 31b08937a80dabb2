"""Compilation seconds from JAX's monitoring events, one clock for every benchmark."""

from __future__ import annotations

STAGES = {
    "jaxpr_trace_duration": "trace",
    "jaxpr_to_mlir_module_duration": "lower",
    "backend_compile_duration": "compile",
}


class CompileClock:
    """Seconds of tracing, lowering and XLA compilation (``jax.monitoring`` events) while it is active, by
    compiled program and stage. Tracing events nest (a jit traced inside another reports its own trace inside
    its caller's), so sums over "trace" may count some seconds twice; "compile" does not."""

    def __init__(self) -> None:
        self.by_program_stage: dict[str, dict[str, float]] = {}

    def _listen(self, event: str, duration: float, fun_name: str = "?", **_: object) -> None:
        stage = STAGES.get(event.rsplit("/", 1)[-1])
        if stage:
            per = self.by_program_stage.setdefault(fun_name, {})
            per[stage] = per.get(stage, 0.0) + duration

    def __enter__(self) -> CompileClock:
        from jax import monitoring

        monitoring.register_event_duration_secs_listener(self._listen)
        return self

    def __exit__(self, *exc: object) -> None:
        from jax import monitoring

        monitoring.unregister_event_duration_listener(self._listen)

    @property
    def by_program(self) -> dict[str, float]:
        return {name: sum(per.values()) for name, per in self.by_program_stage.items()}

    def stages(self, *names: str) -> float:
        """Seconds summed over the named stages ("trace", "lower", "compile") of every program."""
        return sum(s for per in self.by_program_stage.values() for stage, s in per.items() if stage in names)

    @property
    def seconds(self) -> float:
        return self.stages(*STAGES.values())
