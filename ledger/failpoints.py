"""Named crash points for fault-injection tests of exactly-once processing.

``TRYGG_FAILPOINT=NAME:N`` makes the process exit abruptly (no cleanup, like
``kill -9``) the N-th time it reaches the point ``NAME``. Unset, a point costs
one dictionary lookup.
"""

from __future__ import annotations

import os
from collections import Counter

_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    spec = os.environ.get("TRYGG_FAILPOINT")
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] >= int(count or 1):
        os._exit(137)
