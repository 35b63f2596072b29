"""Trygg Ledger benchmarks: every figure is a median, set against a raw-database baseline
measured in the same run. Run ``python -m benchmarks --help`` (see benchmarks/README.md)."""
