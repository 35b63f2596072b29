"""``python benchmarks/run.py [options]`` — the same as ``python -m benchmarks [options]``."""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    if not __package__:  # run as a script: make the repository importable
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.suite import main as suite_main

    suite_main()


if __name__ == "__main__":
    main()
