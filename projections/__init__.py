"""Trygg Ledger's read side: projections of the ledger's notification log into SQL views.

Depends on ``ledger`` only (never on ``api``). Filled in by the projections work.
"""
