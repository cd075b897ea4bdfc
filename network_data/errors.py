"""Exceptions raised by :mod:`network_data`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
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


class NetworkValidationError(ValueError):
    """A dataset failed validation; ``problems`` lists every problem found, not just the first.

    Examples
    --------
    >>> err = NetworkValidationError([Problem("nodes.csv", "line 3", "lat 91.0 is above 90.0")])
    >>> print(err)
    1 problem in the network dataset:
      nodes.csv line 3: lat 91.0 is above 90.0
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the network dataset:"
        super().__init__("\n  ".join([header, *map(str, self.problems)]))


class UnknownPlaceError(ValueError):
    """A place query matched no node, or several equally well.

    ``candidates`` holds the closest node ids, best first.
    """

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = list(candidates)
        super().__init__(message)
