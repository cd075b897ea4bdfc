"""Exceptions raised by :mod:`network_data`, and :class:`ShudaoError`, the root of them all.

The root lives here, in the package every other one imports and that imports none of them
(data flows one way: ``network_data`` -> ``optimizer`` -> ``scenarios``, ``api``), so that
every exception class of Shudao can derive from it. :mod:`optimizer.errors` re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ShudaoError(Exception):
    """Root of Shudao's own exceptions: ``except ShudaoError`` catches every one of them."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a dataset, located by file and row or feature.

    Parameters
    ----------
    file
        File name inside the dataset directory, e.g. ``corridors.csv``.
    location
        ``line N`` for CSV rows (the header is line 1) or ``feature N`` for GeoJSON features;
        empty for file-level problems.
    message
        What is wrong, naming the field, the value and what is allowed.
    """

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} {self.location}".strip()
        return f"{where}: {self.message}"


class NetworkValidationError(ShudaoError, ValueError):
    """A dataset failed validation; ``problems`` lists every problem found, not just the first.

    Examples
    --------
    >>> err = NetworkValidationError([Finding("nodes.csv", "line 3", "lat 91.0 is above 90.0")])
    >>> print(err)
    1 problem in the network dataset:
      nodes.csv line 3: lat 91.0 is above 90.0
    """

    def __init__(self, problems: Sequence[Finding]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the network dataset:"
        super().__init__("\n  ".join([header, *map(str, self.problems)]))


class UnknownPlaceError(ShudaoError, ValueError):
    """A place query matched no node, or several equally well.

    ``candidates`` holds the closest node ids, best first.
    """

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = list(candidates)
        super().__init__(message)
