"""Compiled ruin and recreate for plain VRPTW days (SISR), when numba is installed.

The search of `routing.recreate` runs some 40 ruin-and-recreate iterations a second on a
1,000-customer Homberger instance: every step is Python. Christiaens & Vanden Berghe's SISR
(2020) needs hundreds of thousands. This module is the same ruin (strings of visits from a few
routes near a random visit) and recreate (each removed visit at its cheapest feasible place in
the routes of its neighbours, skipping a place now and then; an idle vehicle when none fits),
with simulated-annealing acceptance, over arrays, so that numba (the `fast` extra) compiles it.
The steps over the arrays are `routing.sisrcore`; this module holds the search's face (`Sisr`,
`applies`) and their compilation (`warm`, `cached`, `ready`).

It handles what the VRPTW benchmarks, `routing.solomon` and plain home-care days ask for
(`applies`): one window per visit, capacity, each vehicle's start, end and shift, a maximum
working time (the least a route can take, leaving as late as its windows allow: checked in
O(length) for the insertions that would be the best so far), the caregivers allowed per visit,
every visit required. Caregivers starting from their homes also have the idle routes of those
living nearest a visit tried at each insertion. Anything else (meals, breaks, continuity,
working-time costs) stays with `routing.recreate`. Without numba the same functions run as
plain Python (the differential test runs both); the planner then uses `routing.recreate`
(`AVAILABLE` is False), which is faster uncompiled. Routes are checked by
`routing.schedule.check` before they are returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import sys
import threading
import time
from pathlib import Path

import numpy as np

from routing import sisrcore
from routing.instance import END, START, Instance
from routing.schedule import Item, Rules, Timing, check
from routing.sisrcore import BIG, MOD

# numba (the `fast` extra) is imported only by warm(): importing it takes a second, and most
# processes that import routing never search a plain VRPTW day. `sisr.warm()`
# compiles the search into numba's cache (make install runs it): 10-40 s on this machine.
AVAILABLE = importlib.util.find_spec("numba") is not None

# Simulated-annealing temperature from START to END, as shares of the mean cost per visit.
TEMP_START, TEMP_END = 2.0, 0.01
# Iterations per compiled call; between calls the deadline is checked and the heat updated.
CHUNK = 500
# Caregivers starting from their homes: the idle ones among the HOMES living nearest a visit
# are tried for it at every insertion.
HOMES = 8


_WARM: list[bool] = []
_LOCK = threading.Lock()


def warm() -> None:
    """Compile the search (or load it from numba's cache) on a tiny day, once per process.

    Until then the search's functions are plain Python (slow; the differential test runs them).
    """
    with _LOCK:
        if _WARM or not AVAILABLE:
            return
        import numba  # see AVAILABLE

        for name in sisrcore.COMPILED:  # in place: callers see their callees compiled
            setattr(sisrcore, name, numba.njit(cache=True, nogil=True)(getattr(sisrcore, name)))
        n = 3
        z = np.zeros((n, n), dtype=np.int64)
        inst = Instance(
            kind=[START, "visit", "visit"], ref=[0, 1, 2], service=np.zeros(n, dtype=np.int64),
            windows=[[(0, 10)]] * n, demand=np.zeros(n, dtype=np.int64), time={"m": z},
            dist={"m": z}, vehicle_mode=["m"] * 2, starts=[0, 0], ends=[0, 0],
            vehicle_window=[(0, 10)] * 2, max_span=[None] * 2, capacity=[1, 1],
            breaks=[[], []], penalty=[None] * n, finalize_times=False,
        )  # fmt: skip
        Sisr(inst).run({0: [1, 2]}, [0, 1], time.monotonic() + 60, max_iters=2)
        _WARM.append(True)
        path, digest = _marker()
        with contextlib.suppress(OSError):  # a read-only tree: compiled in each process
            path.write_text(digest)


def _marker() -> tuple[Path, str]:
    """Where warm() notes the source it compiled (routing.sisrcore, next to numba's cache),
    and the digest of that source now."""
    here = Path(sisrcore.__file__)
    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    digest = hashlib.sha256(here.read_bytes()).hexdigest()
    return here.parent / "__pycache__" / f"{here.stem}.warm-{version}", digest


def cached() -> bool:
    """Whether numba's cache holds this source's compiled search (make install builds it)."""
    path, digest = _marker()
    try:
        return path.read_text() == digest
    except OSError:
        return False


def ready(load: bool = True) -> bool:
    """Whether the compiled search is in use; if not and `load`, warm() when that would not
    compile (numba's cache holds it)."""
    if AVAILABLE and load and not _WARM and cached():
        warm()
    return bool(_WARM)


def applies(inst: Instance, skip: frozenset[int] = frozenset()) -> bool:
    """Whether this instance has only the rules this search keeps (see the module's doc)."""
    customers = [x for x in range(inst.n) if inst.kind[x] not in (START, END)]
    return (
        len(set(inst.vehicle_mode)) == 1
        and not skip
        and all(len(inst.windows[x]) == 1 for x in customers)
        and not any(inst.breaks)
        and not (inst.pairs or inst.groups or inst.locks or inst.preferred)
        and not (inst.soft_span and inst.span_cost)
        and not inst.balance_cost
        and not inst.fixed_cost
        and all(inst.drop_cost(x) == inst.drop_cost(customers[0]) for x in customers)
        and bool(inst.demand[customers].min(initial=0) >= 0)
    )


class Sisr:
    """The arrays of one instance; `run` searches the routes of some vehicles."""

    def __init__(
        self, inst: Instance, neighbours: int = 40, plain: bool = False, idle: bool = False
    ) -> None:
        """`plain`: run the Python source even when warm() has compiled it (for the
        differential test). `idle`: an idle vehicle is a place for every visit at every
        insertion, not only when no route has room."""
        self.inst = inst
        self.plain = plain
        self.idle = idle
        mode = inst.vehicle_mode[0]
        n, nv = inst.n, inst.num_vehicles
        self.C = np.ascontiguousarray((inst.cost or inst.time)[mode], dtype=np.int64)
        self.T = np.ascontiguousarray(inst.time[mode], dtype=np.int64)
        self.a = np.array([w[0][0] if w else 0 for w in inst.windows], dtype=np.int64)
        self.b = np.array([w[-1][1] if w else 0 for w in inst.windows], dtype=np.int64)
        self.svc = np.asarray(inst.service, dtype=np.int64)
        self.q = np.asarray(inst.demand, dtype=np.int64)
        self.cap = np.asarray(inst.capacity, dtype=np.int64)
        self.S = np.asarray(inst.starts, dtype=np.int64)
        self.E = np.asarray(inst.ends, dtype=np.int64)
        self.OPEN = np.array([w[0] for w in inst.vehicle_window], dtype=np.int64)
        self.CLOSE = np.array([w[1] for w in inst.vehicle_window], dtype=np.int64)
        customers = [x for x in range(n) if inst.kind[x] not in (START, END)]
        self.customers = customers
        # Neighbours by cost (SISR's adjacency), customers only, the node itself excluded.
        cust = np.array(customers, dtype=np.int64)
        k = max(1, min(neighbours, len(customers) - 1))
        sub = self.C[np.ix_(cust, cust)].astype(float)
        sub = np.minimum(sub, sub.T)
        np.fill_diagonal(sub, np.inf)
        near = np.argsort(sub, axis=1, kind="stable")[:, :k]
        self.neigh = np.zeros((n, k), dtype=np.int64)
        self.neigh[cust] = cust[near]
        self.SPAN = np.array([BIG if x is None else x for x in inst.max_span], dtype=np.int64)
        self.ALLOW = np.ones((n, nv), dtype=np.bool_)
        for x, vs in inst.allowed.items():
            self.ALLOW[x] = False
            self.ALLOW[x, [v for v in vs if v >= 0]] = True
        # Caregivers starting from their homes: per visit, the HOMES nearest (their idle
        # routes are tried for it at every insertion, not only when no route has room).
        kv = min(HOMES, nv) if len(set(inst.starts)) > 1 else 0
        alone = self.C[np.asarray(inst.starts)][:, cust].T + self.C[cust][:, np.asarray(inst.ends)]
        self.NV = np.full((n, kv), -1, dtype=np.int64)
        if kv:
            self.NV[cust] = np.argsort(alone, axis=1, kind="stable")[:, :kv]
        self.act = np.zeros(nv, dtype=np.bool_)
        m = len(customers) + 1
        self.R = np.zeros((nv, m), dtype=np.int64)
        self.L = np.zeros(nv, dtype=np.int64)
        self.rt = np.full(n, -1, dtype=np.int64)
        self.ps = np.zeros(n, dtype=np.int64)
        self.ES = np.zeros((nv, m), dtype=np.int64)
        self.LS = np.zeros((nv, m), dtype=np.int64)
        self.LD = np.zeros(nv, dtype=np.int64)
        self.RC = np.zeros(nv, dtype=np.int64)
        self.BR = np.zeros((nv, m), dtype=np.int64)
        self.BL = np.zeros(nv, dtype=np.int64)
        self.BRC = np.zeros(nv, dtype=np.int64)
        self.stamp = np.zeros(nv, dtype=np.int64)
        self.mark = np.zeros(nv, dtype=np.int64)
        self.BestR = np.zeros((nv, m), dtype=np.int64)
        self.BestL = np.zeros(nv, dtype=np.int64)
        self.counter = np.zeros(2, dtype=np.int64)

    def load(self, routes: dict[int, list[int]], vehicles: list[int]) -> None:
        self.rt[:] = -1
        self.L[:] = 0
        self.act[:] = False
        self.act[vehicles] = True
        for v in vehicles:
            r = routes.get(v, [])
            self.L[v] = len(r)
            self.R[v, : len(r)] = r
            sisrcore.retime(
                v, self.R, self.L, self.rt, self.ps, self.ES, self.LS, self.LD, self.RC,
                self.C, self.T, self.a, self.b, self.svc, self.q,
                self.S, self.E, self.OPEN, self.CLOSE, self.cap, self.SPAN,
            )  # fmt: skip
        self.BestR[:] = self.R
        self.BestL[:] = self.L

    def run(
        self,
        routes: dict[int, list[int]],
        vehicles: list[int],
        deadline: float,
        seed: int = 0,
        heat: tuple[float, float] = (0.0, 1.0),
        max_iters: int | None = None,
        customers: list[int] | None = None,
        min_iters: int = 0,
    ) -> dict[int, list[int]]:
        """The best routes found for `vehicles` by the deadline, serving their visits and
        the `customers` that no route serves yet (`stuck` when one of those finds no place:
        then the routes given come back).

        The temperature cools from TEMP_START to TEMP_END of the mean cost per visit over the
        whole search; `heat` is the part of it this run covers. With `max_iters` the search
        stops after that many iterations and cools by iterations (for tests); with `min_iters`
        at least that many run, whatever the clock says.
        """
        self.load(routes, vehicles)
        self.refused = self.stuck = False
        self.iterations = 0
        vs = np.asarray(vehicles, dtype=np.int64)
        routed = [x for v in vehicles for x in routes.get(v, [])]
        seen = set(routed)
        pending = np.array([x for x in customers or () if x not in seen], dtype=np.int64)
        cust = np.array(routed + pending.tolist(), dtype=np.int64)
        if not len(cust):
            return {v: list(routes.get(v, [])) for v in vehicles}
        cost = int(self.RC[vs].sum())
        costs = np.array([cost, cost], dtype=np.int64)
        per = max(1.0, cost / max(1, len(routed)))
        t_start, t_end = TEMP_START * per, TEMP_END * per
        rng = np.array([seed % (MOD - 1) + 1], dtype=np.int64)
        t0 = time.monotonic()
        span = max(1e-3, deadline - t0)
        done = 0
        while (time.monotonic() < deadline or len(pending) or done < min_iters) and (
            max_iters is None or done < max_iters
        ):
            chunk = CHUNK if max_iters is None else min(CHUNK, max_iters - done)
            f0 = (done / max_iters) if max_iters else (time.monotonic() - t0) / span
            f1 = ((done + chunk) / max_iters) if max_iters else min(1.0, f0 + 0.02)
            h0 = heat[0] + (heat[1] - heat[0]) * min(1.0, f0)
            h1 = heat[0] + (heat[1] - heat[0]) * min(1.0, f1)
            step = sisrcore.iterate
            step = getattr(step, "py_func", step) if self.plain else step
            done += step(
                self.C, self.T, self.a, self.b, self.svc, self.q, self.cap,
                self.S, self.E, self.OPEN, self.CLOSE, self.SPAN, self.ALLOW, self.NV, self.act,
                self.neigh, vs, cust,
                self.R, self.L, self.rt, self.ps, self.ES, self.LS, self.LD, self.RC,
                self.BR, self.BL, self.BRC, self.stamp, self.mark, self.BestR, self.BestL,
                costs, rng, chunk,
                t_start * (t_end / t_start) ** h0, t_start * (t_end / t_start) ** h1,
                self.counter, pending, self.idle,
            )  # fmt: skip
            if len(pending):
                if (self.rt[pending] < 0).any():
                    self.stuck = True
                    return {v: list(routes.get(v, [])) for v in vehicles}
                pending = pending[:0]
        self.iterations = done
        out = {int(v): self.BestR[v, : self.BestL[v]].tolist() for v in vehicles}
        # A route breaking a rule would be a bug here: the routes it started from, then.
        self.refused = not self.keeps_rules(out, cust.tolist())
        return {v: list(routes.get(v, [])) for v in vehicles} if self.refused else out

    def keeps_rules(self, out: dict[int, list[int]], visits: list[int]) -> bool:
        """Each of the visits once in `out`, and every route kept by schedule.check."""
        if sorted(x for r in out.values() for x in r) != sorted(visits):
            return False
        inst = self.inst
        T = self.T
        for v, r in out.items():
            if not r:
                continue
            items = [
                Item(
                    x,
                    int(self.svc[x]),
                    tuple(inst.windows[x]),
                    load=int(self.q[x]),
                    allowed=frozenset(inst.allowed[x]) if x in inst.allowed else None,
                )
                for x in r
            ]
            rules = Rules(
                inst.starts[v], inst.ends[v], inst.vehicle_window[v],
                lambda i, j: int(T[i, j]), inst.max_span[v], int(self.cap[v]), v,
            )  # fmt: skip
            if not isinstance(check(items, rules), Timing):
                return False
        return True
