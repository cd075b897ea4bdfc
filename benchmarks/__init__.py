"""Benchmarks, kept apart from the tests; run them with ``make bench``."""

import os
from pathlib import Path

#: Public instances with known optima (``$SHUDAO_BENCHMARKS_DIR``, default
#: ``../shared/benchmarks`` beside the repository); benchmarks and tests skip where it is absent.
BENCHMARKS_DIR = Path(
    os.environ.get(
        "SHUDAO_BENCHMARKS_DIR", Path(__file__).resolve().parents[1].parent / "shared/benchmarks"
    )
)
