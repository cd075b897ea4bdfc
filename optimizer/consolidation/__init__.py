"""Consolidation: pool many small lots into boxes on the right departures.

:func:`solve_consolidation` plans a hub's lots onto its departures; :func:`solve_bin_packing`
solves the pure one-dimensional special case exactly.
"""

from optimizer.consolidation.bin_packing import (
    BinPackingResult,
    bin_packing_lower_bound,
    first_fit_decreasing,
    read_bpp,
    solve_bin_packing,
)
from optimizer.consolidation.problem import (
    ConsolidationProblem,
    ConsolidationShipment,
    Rejection,
    problem_from_records,
)
from optimizer.consolidation.result import (
    ConsolidationResult,
    DepartureUse,
    LoadedUnit,
    Placement,
    Unplaced,
)
from optimizer.consolidation.solve import solve_consolidation

__all__ = [
    "BinPackingResult",
    "ConsolidationProblem",
    "ConsolidationResult",
    "ConsolidationShipment",
    "DepartureUse",
    "LoadedUnit",
    "Placement",
    "Rejection",
    "Unplaced",
    "bin_packing_lower_bound",
    "first_fit_decreasing",
    "problem_from_records",
    "read_bpp",
    "solve_bin_packing",
    "solve_consolidation",
]
