"""Step messages from inside dbt Python models, so long steps do not sit silent."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def reporter(step: str) -> Callable[[str], None]:
    """A function that prints ``HH:MM:SS [step] message`` to stderr, flushed at once."""

    def report(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} [{step}] {message}", file=sys.stderr, flush=True)

    return report
