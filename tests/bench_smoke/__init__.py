"""Smoke runs of the benchmarks: they work end to end and keep their invariants (not their
timing targets, which need a quiet machine)."""
