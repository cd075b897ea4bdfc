"""Every solver's result answers the same questions under the same names
(:class:`optimizer.results.SolverResult`)."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.allocation import AllocationResult
from optimizer.consolidation import ConsolidationResult
from optimizer.consolidation.bin_packing import BinPackingResult, solve_bin_packing
from optimizer.first_mile import PickupResult
from optimizer.results import SolverResult

MEMBERS = ("status", "objective", "bound", "gap", "runtime_s", "seed", "to_dict")


@pytest.mark.parametrize(
    "result_type", [AllocationResult, ConsolidationResult, PickupResult, BinPackingResult]
)
def test_every_result_has_the_protocol_s_members(result_type: type) -> None:
    fields = {field.name for field in dataclasses.fields(result_type)}
    missing = [name for name in MEMBERS if name not in fields and not hasattr(result_type, name)]
    assert not missing, (result_type.__name__, missing)


def test_a_result_is_a_solver_result() -> None:
    # sizes 3, 3, 2 in bins of 5: 8 units need two bins, and two bins hold them (3+2, 3)
    result = solve_bin_packing([3, 3, 2], 5, seed=0)
    assert isinstance(result, SolverResult)
    assert (result.objective, result.bound, result.gap) == (2, 2, 0.0)
    assert result.to_dict()["bins"] == result.bins
