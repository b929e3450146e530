"""Benchmarks of Entrix Gate; ``make bench`` runs them and writes docs/BENCHMARKS.md."""
