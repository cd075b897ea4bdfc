"""Operating and planned facilities: which rows plans use, and what switching one on brings.

A node, corridor or service declares its ``status`` (``operating``, ``under_construction`` or
``planned``). What it can be used for also depends on what it needs: a corridor runs only when
both its ends operate and, if it keeps a timetable, one of its services does; a service runs
only on a running corridor; a through train only when its service and every corridor it goes
on over run. :func:`split` keeps the running rows for plans and sets the others aside, each
with the status of the least advanced thing it waits for; :func:`opening` says which rows
switching some of them on brings back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import pandas as pd

from network_data.schema import FACILITY_STATUSES

OPERATING = "operating"
#: Least advanced first: a row waits for the least advanced of what it needs.
_RANK = {"planned": 0, "under_construction": 1, OPERATING: 2}
assert set(_RANK) == set(FACILITY_STATUSES)


def _least(statuses: Iterable[str]) -> str:
    return min(statuses, key=_RANK.__getitem__)


@dataclass(frozen=True, eq=False)
class Planned:
    """Rows of the dataset that are not operating (planned or under construction), with
    the status of the least advanced thing each waits for; indexed like the operating tables.

    Attributes
    ----------
    nodes, corridors
        Nodes and directed corridors, with their geometry.
    services
        Timetables of corridors that are not running, or that are not running yet on
        running corridors.
    through_services
        Through trains whose service or corridors are not running.
    """

    nodes: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    services: pd.DataFrame
    through_services: pd.DataFrame

    def status_of(self, item_id: str) -> tuple[str, float] | None:
        """The status and opening year (NaN: not known) of a planned node, corridor or
        service id; None for an id that is not set aside here.

        Examples
        --------
        >>> from network_data import load_network
        >>> load_network().planned.status_of("CN-GUANGAN-APT")
        ('planned', nan)
        >>> load_network().planned.status_of("CNCTU") is None
        True
        """
        for table, key in (
            (self.nodes, None),
            (self.corridors, None),
            (self.services, "service_id"),
        ):
            rows = table[table[key] == item_id] if key else table.loc[table.index == item_id]
            if not rows.empty:
                return str(rows["status"].iloc[0]), float(rows["opens_year"].iloc[0])
        return None


class Split(NamedTuple):
    """The running rows of each table, and the rest."""

    nodes: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    services: pd.DataFrame
    through_services: pd.DataFrame
    planned: Planned


def effective_statuses(
    nodes: pd.DataFrame, corridors: pd.DataFrame, services: pd.DataFrame
) -> tuple[pd.Series[str], pd.Series[str], pd.Series[str]]:
    """The status each node, corridor and service can be used with, given what it needs.

    ``nodes`` and ``corridors`` are indexed by id; ``services`` carries ``corridor_id``.

    Examples
    --------
    >>> nodes = pd.DataFrame({"status": ["operating", "planned"]}, index=["A", "B"])
    >>> corridors = pd.DataFrame(
    ...     {"origin": ["A", "A"], "destination": ["A", "B"], "scheduled": [True, False],
    ...      "status": ["operating", "operating"]}, index=["AA", "AB"])
    >>> services = pd.DataFrame({"corridor_id": ["AA"], "status": ["under_construction"]})
    >>> _, c, s = effective_statuses(nodes, corridors, services)
    >>> c.to_dict(), s.tolist()
    ({'AA': 'under_construction', 'AB': 'planned'}, ['under_construction'])
    """
    node_status = nodes["status"]
    # Plain dicts: a Series' get costs microseconds, three per corridor of a large network.
    status_of_node = dict(zip(node_status.index, node_status, strict=True))
    best_service = (
        services.groupby("corridor_id")["status"].agg(lambda s: max(s, key=_RANK.__getitem__))
        if len(services)
        else pd.Series(dtype=str)
    )
    best_service_of = dict(zip(best_service.index, best_service, strict=True))
    corridor_statuses = [
        _least(
            [
                own,
                status_of_node.get(origin, "planned"),
                status_of_node.get(destination, "planned"),
                *([best_service_of.get(cid, "planned")] if scheduled else []),
            ]
        )
        for cid, own, origin, destination, scheduled in zip(
            corridors.index,
            corridors["status"],
            corridors["origin"],
            corridors["destination"],
            corridors["scheduled"],
            strict=True,
        )
    ]
    corridor_status = pd.Series(corridor_statuses, index=corridors.index, dtype=str)
    status_of_corridor = dict(zip(corridors.index, corridor_statuses, strict=True))
    service_status = pd.Series(
        [
            _least([own, status_of_corridor.get(cid, "planned")])
            for own, cid in zip(services["status"], services["corridor_id"], strict=True)
        ],
        index=services.index,
        dtype=str,
    )
    return node_status, corridor_status, service_status


def split(
    nodes: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    services: pd.DataFrame,
    through_services: pd.DataFrame,
) -> Split:
    """Running rows for plans, the rest set aside with the status they wait on.

    ``through_services`` is indexed by id.
    """
    node_status, corridor_status, service_status = effective_statuses(nodes, corridors, services)
    running_corridors = set(corridor_status.index[corridor_status == OPERATING])
    running_services = set(services.loc[service_status == OPERATING, "service_id"])
    through_running = pd.Series(
        [
            service in running_services and all(c in running_corridors for c in over)
            for service, over in zip(
                through_services["service_id"], through_services["corridors"], strict=True
            )
        ],
        index=through_services.index,
        dtype=bool,
    )
    nodes = nodes.assign(status=node_status)
    corridors = corridors.assign(status=corridor_status)
    services = services.assign(status=service_status)
    node_on = nodes["status"] == OPERATING
    corridor_on = corridors["status"] == OPERATING
    service_on = services["status"] == OPERATING
    return Split(
        nodes=nodes[node_on].copy(),
        corridors=corridors[corridor_on].copy(),
        services=services[service_on].reset_index(drop=True),
        through_services=through_services[through_running].copy(),
        planned=Planned(
            nodes=nodes[~node_on].copy(),
            corridors=corridors[~corridor_on].copy(),
            services=services[~service_on].reset_index(drop=True),
            through_services=through_services[~through_running].copy(),
        ),
    )


class Opening(NamedTuple):
    """Ids of the planned rows a switch-on brings into service."""

    nodes: list[str]
    corridors: list[str]
    services: list[str]


def opening(planned: Planned, ids: Iterable[str] = (), opening_by: int | None = None) -> Opening:
    """The planned rows that switching ``ids`` on (and every row opening by the year
    ``opening_by``) brings into service.

    Switching on a node brings its planned corridors to nodes that then operate; a corridor
    brings its reverse, the ends it needs and its timetable; a service brings its corridor.

    Raises
    ------
    KeyError
        For an id that is not a planned node, corridor or service; the message says which.

    Examples
    --------
    >>> from network_data import load_network
    >>> planned = load_network().planned
    >>> opened = opening(planned, ["CN-GUANGAN-APT"])
    >>> opened.nodes, "AIR-CN-GUANGAN-APT-CNSHA-PVG" in opened.corridors
    (['CN-GUANGAN-APT'], True)
    >>> opened.services
    ['S-AIR-CN-GUANGAN-APT-CNSHA-PVG-1', 'S-AIR-CNSHA-PVG-CN-GUANGAN-APT-1']
    """
    nodes_p, corridors_p, services_p = planned.nodes, planned.corridors, planned.services
    wanted = list(ids)
    if opening_by is not None:
        for table, key in ((nodes_p, None), (corridors_p, None), (services_p, "service_id")):
            due = table["opens_year"] <= opening_by
            wanted += [str(i) for i in (table[key] if key else table.index)[due]]
    node_ids: set[str] = set()
    corridor_ids: set[str] = set()
    service_ids: set[str] = set()
    for item in wanted:
        if item in nodes_p.index:
            node_ids.add(item)
        elif item in corridors_p.index:
            corridor_ids.add(item)
        elif item in set(services_p["service_id"]):
            service_ids.add(item)
        else:
            raise KeyError(
                f"{item!r} is not a planned or under-construction node, corridor or service"
            )
    by_service = services_p.set_index("service_id")["corridor_id"]
    corridor_ids |= {str(by_service[s]) for s in service_ids} & set(corridors_p.index)
    reverse = {
        cid: other
        for cid, row in corridors_p.iterrows()
        for other in (row.get("reverse_id", ""), row.get("reverse_of", ""))
        if other and other in corridors_p.index
    }
    corridor_ids |= {reverse[c] for c in list(corridor_ids) if c in reverse}
    for cid in corridor_ids:
        for end in (corridors_p.at[cid, "origin"], corridors_p.at[cid, "destination"]):
            if end in nodes_p.index:
                node_ids.add(str(end))
    touching = corridors_p["origin"].isin(node_ids) | corridors_p["destination"].isin(node_ids)
    ends_open = ~corridors_p["origin"].isin(set(nodes_p.index) - node_ids) & ~corridors_p[
        "destination"
    ].isin(set(nodes_p.index) - node_ids)
    corridor_ids |= set(corridors_p.index[touching & ends_open])
    on_corridors = services_p["corridor_id"].isin(corridor_ids)
    service_ids |= set(services_p.loc[on_corridors, "service_id"])
    return Opening(sorted(node_ids), sorted(corridor_ids), sorted(service_ids))
