"""Every stress test's printed figures also go to benchmarks/results/stress.txt."""

from __future__ import annotations

from tests.stress.figures import record_stress_figures

__all__ = ["record_stress_figures"]
