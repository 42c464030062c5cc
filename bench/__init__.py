"""Benchmarks of xiecha: ``python -m bench.roundtrip`` (see its docstring)."""
