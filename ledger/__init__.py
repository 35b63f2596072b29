"""Trygg Ledger's write side: the domain, its commands and its storage.

Knows nothing of HTTP or of projections (the dependency rule is
api → projections → ledger, checked by ``tests/unit/test_layers.py``).
"""
