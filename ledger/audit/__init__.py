"""Tamper-evident audit log: the pure cryptographic core.

The event store's records are the leaves of an append-only RFC 6962 Merkle
tree (``merkle``), each leaf being a fixed byte encoding of one stored event
(``leaf``). The tree head is published as a signed C2SP checkpoint
(``checkpoint``). ``standalone`` re-checks an NDJSON export against such a
checkpoint offline; ``verify`` checks the ledger's own database (``trygg verify``).

``merkle``, ``leaf``, ``checkpoint`` and ``standalone`` must stay importable with
the standard library plus ``cryptography`` only, so that the standalone verifier
can be handed to an auditor without the rest of the application. Nothing is
imported here on purpose.
"""
