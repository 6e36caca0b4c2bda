"""The OR-Tools model: the one module of the package that imports OR-Tools."""

from __future__ import annotations

import itertools
import logging
import time

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.instance import PICKUP, VISIT, Instance, RawRoute, RawSolution

log = logging.getLogger(__name__)

FIRST_SOLUTIONS = tuple(routing_enums_pb2.FirstSolutionStrategy.DESCRIPTOR.enum_values_by_name)
METAHEURISTICS = tuple(routing_enums_pb2.LocalSearchMetaheuristic.DESCRIPTOR.enum_values_by_name)

_STATUS = {
    0: "ROUTING_NOT_SOLVED",
    1: "ROUTING_SUCCESS",
    2: "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
    3: "ROUTING_FAIL",
    4: "ROUTING_FAIL_TIMEOUT",
    5: "ROUTING_INVALID",
    6: "ROUTING_INFEASIBLE",
    7: "ROUTING_OPTIMAL",
}


def search_parameters(
    time_limit_s: float,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    solution_limit: int | None = None,
    log_search: bool = False,
    overrides: dict | None = None,
):
    if first_solution not in FIRST_SOLUTIONS:
        raise ValueError(f"unknown first_solution {first_solution!r}; one of {FIRST_SOLUTIONS}")
    if metaheuristic not in METAHEURISTICS:
        raise ValueError(f"unknown metaheuristic {metaheuristic!r}; one of {METAHEURISTICS}")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    params.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    params.log_search = log_search
    for key, value in (overrides or {}).items():
        _set_param(params, key, value)
    return params


def _set_param(params, dotted: str, value) -> None:
    """Set a search parameter by dotted name, e.g. local_search_operators.use_tsp_opt."""
    *path, last = dotted.split(".")
    target = params
    for part in path:
        target = getattr(target, part)
    current = getattr(target, last)
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
        value = value.upper() == "TRUE"
    if isinstance(value, bool) and not isinstance(current, bool):
        value = 2 if value else 3  # OptionalBoolean: BOOL_TRUE = 2, BOOL_FALSE = 3
    elif isinstance(current, float):
        value = float(value)
    elif isinstance(current, int) and not isinstance(current, bool):
        value = int(value)
    setattr(target, last, value)


class _Model:
    """An Instance translated into a RoutingModel; kept together so solutions can be read back."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        n, nv = inst.n, inst.num_vehicles
        self.manager = pywrapcp.RoutingIndexManager(n, nv, inst.starts, inst.ends)
        self.routing = routing = pywrapcp.RoutingModel(self.manager)
        solver = routing.solver()
        horizon = inst.horizon

        # Travel per mode; time transit includes the service at the node left.
        modes = sorted(set(inst.vehicle_mode))
        time_cb, cost_cb = {}, {}
        for mode in modes:
            transit = inst.time[mode] + inst.service[:, None]
            time_cb[mode] = routing.RegisterTransitMatrix(transit.tolist())
            cost = inst.cost[mode] if inst.cost is not None else inst.time[mode]
            cost_cb[mode] = routing.RegisterTransitMatrix(cost.tolist())
        for v in range(nv):
            routing.SetArcCostEvaluatorOfVehicle(cost_cb[inst.vehicle_mode[v]], v)
        routing.AddDimensionWithVehicleTransits(
            [time_cb[inst.vehicle_mode[v]] for v in range(nv)],
            horizon,  # slack: waiting allowed anywhere
            horizon,  # capacity: the time horizon
            False,  # fix_start_cumul_to_zero: caregivers leave when they like within the shift
            "time",
        )
        self.time_dim = td = routing.GetDimensionOrDie("time")

        for node in range(n):
            if inst.kind[node] not in (VISIT, PICKUP):
                continue
            idx = self.manager.NodeToIndex(node)
            ws = sorted(inst.windows[node])
            cumul = td.CumulVar(idx)
            cumul.SetRange(ws[0][0], ws[-1][1])
            for (_, b), (a2, _) in itertools.pairwise(ws):
                if a2 > b + 1:
                    cumul.RemoveInterval(b + 1, a2 - 1)
            if inst.finalize_times:
                routing.AddVariableMinimizedByFinalizer(cumul)
        for v in range(nv):
            a, b = inst.vehicle_window[v]
            td.CumulVar(routing.Start(v)).SetRange(a, b)
            td.CumulVar(routing.End(v)).SetRange(a, b)
            if inst.max_span[v] is not None:
                td.SetSpanUpperBoundForVehicle(inst.max_span[v], v)
            if inst.span_cost and inst.soft_span and inst.soft_span[v] is not None:
                # Soft overtime: each unit of working time past soft_span costs span_cost.
                td.SetSoftSpanUpperBoundForVehicle(
                    pywrapcp.BoundCost(inst.soft_span[v], inst.span_cost), v
                )
            if inst.finalize_times:
                routing.AddVariableMaximizedByFinalizer(td.CumulVar(routing.Start(v)))
                routing.AddVariableMinimizedByFinalizer(td.CumulVar(routing.End(v)))

        if inst.demand.any():
            demand_cb = routing.RegisterUnaryTransitVector(inst.demand.tolist())
            routing.AddDimensionWithVehicleCapacity(
                demand_cb,
                0,  # slack
                list(inst.capacity),  # per-vehicle capacity
                True,  # fix_start_cumul_to_zero: everyone starts empty
                "load",
            )

        for p, d, ride in inst.pairs:
            pi, di = self.manager.NodeToIndex(p), self.manager.NodeToIndex(d)
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            solver.Add(td.CumulVar(pi) <= td.CumulVar(di))
            if ride is not None:
                # Ride time: from leaving the kitchen to the start of the delivery.
                solver.Add(td.CumulVar(di) - td.CumulVar(pi) <= ride + int(inst.service[p]))

        locked_nodes = {x for chain in inst.locks.values() for x in chain}
        for node in range(n):
            if inst.kind[node] not in (VISIT, PICKUP) or node in locked_nodes:
                continue
            pen = inst.penalty[node] if inst.penalty else None
            if pen is not None:
                routing.AddDisjunction([self.manager.NodeToIndex(node)], pen)
        if inst.allowed:
            self._allowed_vehicles(inst)

        for group in inst.groups:
            idxs = [self.manager.NodeToIndex(x) for x in group]
            for a, b in itertools.pairwise(idxs):
                solver.Add(td.CumulVar(a) == td.CumulVar(b))
            for i, a in enumerate(idxs):
                for b in idxs[i + 1 :]:
                    # Different caregivers whenever performed (both -1 when both dropped).
                    solver.Add(
                        solver.Max(
                            solver.IsDifferentVar(routing.VehicleVar(a), routing.VehicleVar(b)),
                            solver.IsEqualCstVar(routing.VehicleVar(a), -1),
                        )
                        == 1
                    )

        for v, chain in inst.locks.items():
            prev = routing.Start(v)
            for node in chain:
                idx = self.manager.NodeToIndex(node)
                solver.Add(routing.NextVar(prev) == idx)
                prev = idx

        if inst.preferred and inst.continuity_cost > 0:
            pref_nodes = list(inst.preferred.items())
            cbs = []
            for v in range(nv):
                vec = [0] * n
                for node, pv in pref_nodes:
                    if pv != v:
                        vec[node] = 1
                cbs.append(routing.RegisterUnaryTransitVector(vec))
            routing.AddDimensionWithVehicleTransits(
                cbs,
                0,  # slack
                n,  # capacity: at most every node
                True,  # fix_start_cumul_to_zero
                "continuity",
            )
            routing.GetDimensionOrDie("continuity").SetSpanCostCoefficientForAllVehicles(
                inst.continuity_cost
            )

        if inst.fixed_cost:
            routing.SetFixedCostOfAllVehicles(inst.fixed_cost)

        self.break_names: dict[str, int] = {}
        if any(inst.breaks):
            visit_transits = [
                int(inst.service[self.manager.IndexToNode(i)]) for i in range(routing.Size())
            ]
            for v in range(nv):
                intervals = []
                for k, (a, b, dur) in enumerate(inst.breaks[v]):
                    name = f"break {v} {k}"
                    self.break_names[name] = v
                    intervals.append(
                        solver.FixedDurationIntervalVar(
                            a,  # earliest start
                            b,  # latest start
                            dur,  # duration
                            False,  # optional: no, the break is taken
                            name,
                        )
                    )
                if intervals:
                    td.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)
                    # OR-Tools would also accept a break after the caregiver is home.
                    for iv in intervals:
                        # Keep break times in the solution the search hands back.
                        routing.AddIntervalToAssignment(iv)
                        solver.Add(iv.StartExpr() >= td.CumulVar(routing.Start(v)))
                        solver.Add(iv.EndExpr() <= td.CumulVar(routing.End(v)))

    def _allowed_vehicles(self, inst: Instance) -> None:
        """Skills, refusals, gender and pins as allowed vehicles per visit.

        SetAllowedVehiclesForIndex is unusable from Python in the 9.15 wheel (its absl::Span
        argument has no typemap), so the vehicle variable is restricted for the CP side and a
        zero-capacity dimension, counting visits a vehicle may not make, lets the local-search
        filters reject such moves cheaply.
        """
        routing, nv = self.routing, inst.num_vehicles
        vectors = [[0] * inst.n for _ in range(nv)]
        for node, vehicles in inst.allowed.items():
            idx = self.manager.NodeToIndex(node)
            routing.VehicleVar(idx).SetValues([-1, *vehicles])
            ok = set(vehicles)
            for v in range(nv):
                if v not in ok:
                    vectors[v][node] = 1
        cbs = [routing.RegisterUnaryTransitVector(vec) for vec in vectors]
        routing.AddDimensionWithVehicleTransits(
            cbs,
            0,  # slack
            0,  # capacity: a vehicle may make no visit it is not allowed
            True,  # fix_start_cumul_to_zero
            "allowed",
        )

    def read(self, assignment, wall_s: float) -> RawSolution:
        inst, routing, td = self.inst, self.routing, self.time_dim
        routes, seen = [], set()
        breaks: dict[int, list[tuple[int, int]]] = {}
        if self.break_names:
            intervals = assignment.IntervalVarContainer()
            for i in range(intervals.Size()):
                el = intervals.Element(i)
                v = self.break_names.get(el.Var().Name())
                if v is not None and el.PerformedValue():
                    breaks.setdefault(v, []).append((el.StartValue(), el.DurationValue()))
        for v in range(inst.num_vehicles):
            idx = assignment.Value(routing.NextVar(routing.Start(v)))
            nodes, starts = [], []
            while not routing.IsEnd(idx):
                node = self.manager.IndexToNode(idx)
                nodes.append(node)
                starts.append(assignment.Value(td.CumulVar(idx)))
                seen.add(node)
                idx = assignment.Value(routing.NextVar(idx))
            routes.append(
                RawRoute(
                    vehicle=v,
                    nodes=nodes,
                    starts=starts,
                    depart=assignment.Value(td.CumulVar(routing.Start(v))),
                    arrive=assignment.Value(td.CumulVar(routing.End(v))),
                    breaks=sorted(breaks.get(v, [])),
                )
            )
        dropped = [x for x in range(inst.n) if inst.kind[x] == VISIT and x not in seen]
        return RawSolution(
            routes=routes,
            dropped=dropped,
            objective=assignment.ObjectiveValue(),
            status=_STATUS.get(routing.status(), str(routing.status())),
            wall_s=wall_s,
        )


BREAK_ROUND_SOLUTIONS = 25


def _solve_in_rounds(model: _Model, params, deadline: float):
    """Search in rounds of a bounded number of solutions, each from the previous best.

    With break intervals, an OR-Tools 9.15 search that is stopped by its time limit hands back
    its all-unperformed start instead of the best solution it found (the solution collector
    never gets one whose break times are fixed); a search stopped by a solution limit does
    not. So: rounds that end on the solution limit, keeping the best, until time runs out.
    """
    routing = model.routing
    best = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0.05 and best is not None:
            return best
        params.solution_limit = BREAK_ROUND_SOLUTIONS
        params.time_limit.FromMilliseconds(max(50, int(left * 1000)))
        found = (
            routing.SolveWithParameters(params)
            if best is None
            else routing.SolveFromAssignmentWithParameters(best, params)
        )
        if found is not None and (best is None or found.ObjectiveValue() < best.ObjectiveValue()):
            best = found
        elif found is not None and best is not None:
            return best  # a round that found nothing better: local optimum or time out
        if best is None:
            return None


def solve_instance(
    inst: Instance,
    time_limit_s: float,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    solution_limit: int | None = None,
    initial_routes: list[list[int]] | None = None,
    log_search: bool = False,
    overrides: dict | None = None,
    info: dict | None = None,
) -> RawSolution | None:
    """Solve; None when no solution was found. initial_routes are node lists per vehicle."""
    t0 = time.monotonic()
    model = _Model(inst)
    params = search_parameters(
        time_limit_s, first_solution, metaheuristic, solution_limit, log_search, overrides
    )
    routing = model.routing
    assignment = None
    if initial_routes is not None:
        routing.CloseModelWithParameters(params)
        idx_routes = [[model.manager.NodeToIndex(x) for x in r] for r in initial_routes]
        initial = routing.ReadAssignmentFromRoutes(idx_routes, True)
        if initial is None:
            log.warning("initial routes rejected by the model; solving from scratch")
        else:
            left = time_limit_s - (time.monotonic() - t0)
            params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
            assignment = routing.SolveFromAssignmentWithParameters(initial, params)
            if assignment is None:
                # Out of time before the first solution: at least time the given routes
                # (this may overrun the limit by a little).
                params.solution_limit = 1
                params.time_limit.FromMilliseconds(int(max(2.0, 0.1 * time_limit_s) * 1000))
                assignment = routing.SolveFromAssignmentWithParameters(initial, params)
            if assignment is None:
                return None
    if assignment is None and model.break_names and solution_limit is None:
        assignment = _solve_in_rounds(model, params, t0 + time_limit_s)
    elif assignment is None:
        left = time_limit_s - (time.monotonic() - t0)
        params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
        assignment = routing.SolveWithParameters(params)
    if info is not None:
        info["status"] = _STATUS.get(routing.status(), str(routing.status()))
    if assignment is None:
        log.info("no solution: status %s", _STATUS.get(routing.status()))
        return None
    return model.read(assignment, time.monotonic() - t0)
