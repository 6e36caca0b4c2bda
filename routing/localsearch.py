"""Our own search over whole-day routes: granular local search, then ruin and recreate.

OR-Tools' guided local search converges slowly on days of hundreds of visits, and the
decomposition (routing.decompose) only ever moves visits between routes that were cut out
together. This module works on the whole day at once, in the way of the hybrid genetic search
of Vidal (2022) and the string-removal ruin-and-recreate of Christiaens & Vanden Berghe (2020):

* moves only between a visit and its nearest visits (granular neighbourhoods): relocate one
  visit or two in a row, swap two visits, 2-opt* (exchange route tails) and, within one route,
  relocate and 2-opt; a move's cost change is computed from the arcs it touches, and the
  routes it produces are then checked in full against every rule of the model;
* then, until the deadline: remove strings of visits from a few neighbouring routes, insert
  them again each at its cheapest feasible place (skipping a few places at random), run the
  local search on what changed, and keep the result under a cooling acceptance threshold.

It enforces what `routing.solver` enforces (time windows, capacity, shift window, maximum
working time, allowed caregivers, meal pickup before delivery with its ride time) and never
returns routes it has not checked. Vehicles with breaks or locks are left as they are; so are
meal pickups and deliveries (they move only with the local search, never ruined apart).
"""

from __future__ import annotations

import logging
import random
import time

import numpy as np

from routing.instance import END, START, Instance
from routing.schedule import Item, Rules, Timing, check, first_start, latest_start
from routing.screen import AFTER, BEFORE, PAIR, SWAP, TAIL_UV, TAIL_VU, Arcs

log = logging.getLogger(__name__)

# Neighbours per visit for the granular moves, by a proximity that counts waiting and
# time-window clashes besides travel (Vidal et al. 2013; PyVRP's weights): the cost of i then
# j, plus WAIT_WEIGHT times the least wait at j and WARP_WEIGHT times the least lateness at j.
NEIGHBOURS = 40
WAIT_WEIGHT, WARP_WEIGHT = 0.2, 1.0


class LocalSearch:
    """Routes of one instance with the data to move visits between them quickly."""

    def __init__(
        self,
        inst: Instance,
        routes: dict[int, list[int]],
        seed: int = 0,
        skip: frozenset[int] = frozenset(),
        vector: bool = True,
    ) -> None:
        self.inst = inst
        self.rng = random.Random(seed)
        nv = inst.num_vehicles
        modes = sorted(set(inst.vehicle_mode))
        costs = inst.cost or inst.time
        self.C = {m: costs[m].tolist() for m in modes}
        self.symmetric = all(np.array_equal(costs[m], costs[m].T) for m in modes)
        # Travel time is the cost on home-care days: one copy of the lists then serves both.
        self.T = {
            m: self.C[m] if costs[m] is inst.time[m] else inst.time[m].tolist() for m in modes
        }
        self.mode = list(inst.vehicle_mode)
        self.S, self.E = list(inst.starts), list(inst.ends)
        self.vw = list(inst.vehicle_window)
        self.span = list(inst.max_span)
        self.cap = list(inst.capacity)
        self.svc = inst.service.tolist()
        self.dem = inst.demand.tolist()
        self.has_dem = bool(inst.demand.any())
        self.W = inst.windows
        self.multi = [len(w) > 1 for w in inst.windows]
        self.wa = [w[0][0] if w else 0 for w in inst.windows]
        self.wb = [w[-1][1] if w else 0 for w in inst.windows]
        self.allowed = {x: frozenset(vs) for x, vs in inst.allowed.items()}
        self.pref = dict(inst.preferred)
        self.cc = inst.continuity_cost if inst.preferred else 0
        self.fixed = inst.fixed_cost
        self.delivery = {p: (d, r) for p, d, r in inst.pairs}
        self.pickup = {d: p for p, d, _ in inst.pairs}
        self.paired = set(self.delivery) | set(self.pickup)
        self.penalty = [inst.drop_cost(x) for x in range(inst.n)]
        # Each node as the one route check (routing.schedule.check) sees it, and each
        # vehicle's rules.
        self.items = [
            Item(
                x,
                self.svc[x],
                tuple(inst.windows[x]),
                x,
                *self.delivery.get(x, (None, None)),
                load=self.dem[x],
                allowed=self.allowed.get(x),
                after=self.pickup.get(x),
            )
            for x in range(inst.n)
        ]
        self.rules = [
            Rules(
                self.S[v],
                self.E[v],
                self.vw[v],
                self._tt(self.T[self.mode[v]]),
                self.span[v],
                self.cap[v] if self.has_dem else None,
                v,
            )
            for v in range(nv)
        ]
        # Working time past the soft span (overtime) and past the fair share (balance) costs.
        self.soft = list(inst.soft_span) or [None] * nv
        self.span_cost = inst.span_cost
        self.balance = (inst.balance_target, inst.balance_cost)
        self.extra = bool(self.span_cost or inst.balance_cost)
        self.soft_rules = [
            Rules(*r[:4], s, *r[5:]) if s is not None else None
            for r, s in zip(
                [
                    (x.start_loc, x.end_loc, x.shift, x.tt, x.max_span, x.capacity, x.vehicle)
                    for x in self.rules
                ],
                self.soft,
                strict=True,
            )
        ]
        # Vehicles whose routes this search may ever change.
        self.movable = [v for v in range(nv) if not inst.breaks[v] and v not in inst.locks]
        self.all_customers = [
            x for x in range(inst.n) if inst.kind[x] not in (START, END) and x not in skip
        ]
        self.neigh = self._neighbours(self.all_customers)
        # One travel mode and no continuity cost: the moves' cost tests as vectors.
        self.arcs = None
        if vector and len(modes) == 1 and not self.cc:
            self.arcs = Arcs(np.asarray(costs[modes[0]]), self.S, self.E, self.fixed)
            self.neigh_np = {x: np.array(ns, dtype=np.int64) for x, ns in self.neigh.items()}
        # Vehicles alike (same start, end, mode, shift, limits) form a class; per visit, the
        # nearest classes by the cost of an out-and-back trip, and per class its idle vehicles.
        self.klass: dict[int, int] = {}
        members: dict[tuple, int] = {}
        for v in self.movable:
            key = (self.S[v], self.E[v], self.mode[v], self.vw[v], self.span[v], self.cap[v])
            self.klass[v] = members.setdefault(key, len(members))
        self.near_classes: dict[int, list[int]] = {}
        if members and self.all_customers:
            first = {}
            for v in self.movable:
                first.setdefault(self.klass[v], v)
            reps = [first[k] for k in range(len(members))]
            c0 = np.asarray(costs[modes[0]])
            starts = np.array([self.S[v] for v in reps])
            ends = np.array([self.E[v] for v in reps])
            cust = np.array(self.all_customers)
            trip = c0[np.ix_(starts, cust)] + c0[np.ix_(cust, ends)].T
            order = np.argsort(trip, axis=0, kind="stable")[: min(len(reps), 40)]
            for k, x in enumerate(self.all_customers):
                self.near_classes[x] = order[:, k].tolist()
        self.reset(routes)

    def reset(
        self,
        routes: dict[int, list[int]],
        vehicles: list[int] | None = None,
        customers: list[int] | None = None,
    ) -> None:
        """Start from these routes; only `vehicles` change and only `customers` count."""
        nv = self.inst.num_vehicles
        ok = set(self.movable)
        self.free = [v for v in (range(nv) if vehicles is None else vehicles) if v in ok]
        self.free_set = set(self.free)
        self.routes = {v: list(routes.get(v, [])) for v in range(nv)}
        self.where: dict[int, tuple[int, int]] = {}
        self.es: dict[int, list[int]] = {}
        self.ls: dict[int, list[int]] = {}
        self.load: dict[int, list[int]] = {}
        self.idle: dict[int, set[int]] = {}
        if self.arcs is not None:
            self.arcs.clear()
        for v in self.free:
            self._index(v)
        self.rc = {v: self.route_cost(v, self.routes[v]) for v in range(nv)}
        self.customers = self.all_customers if customers is None else customers
        self.journal: dict[int, tuple[list[int], int]] | None = None

    # -- bookkeeping -------------------------------------------------------------------------

    def _index(self, v: int) -> None:
        """Positions, earliest and latest starts and loads of route v (after any change)."""
        R = self.routes[v]
        idle = self.idle.setdefault(self.klass[v], set())
        if R:
            idle.discard(v)
        else:
            idle.add(v)
        for i, x in enumerate(R):
            self.where[x] = (v, i)
        if self.arcs is not None:
            self.arcs.index(v, R)
        T = self.T[self.mode[v]]
        wa, wb, svc = self.wa, self.wb, self.svc
        es, t, here = [], self.vw[v][0], self.S[v]
        for x in R:
            arr = t + T[here][x]
            s = (first_start(arr, self.W[x]) or arr) if self.multi[x] else max(arr, wa[x])
            es.append(s)
            t, here = s + svc[x], x
        ls = [0] * len(R)
        bound, nxt = self.vw[v][1], self.E[v]
        for i in range(len(R) - 1, -1, -1):
            x = R[i]
            bound = bound - T[x][nxt] - svc[x]
            if self.multi[x]:
                bound = latest_start(bound, self.W[x])
            elif bound > wb[x]:
                bound = wb[x]
            ls[i], nxt = bound, x
        self.es[v], self.ls[v] = es, ls
        if self.has_dem:
            acc, loads = 0, []
            for x in R:
                acc += self.dem[x]
                loads.append(acc)
            self.load[v] = loads

    def fits(self, v: int, a_pos: int, seq: list[int], b_pos: int) -> bool:
        """Quick necessary test: seq between positions a_pos (-1: start) and b_pos of route v.

        Uses the earliest start before and the latest start after (Savelsbergh): a move this
        rejects is infeasible; one it passes is then checked in full.
        """
        R, T = self.routes[v], self.T[self.mode[v]]
        if a_pos >= 0:
            a = R[a_pos]
            t = self.es[v][a_pos] + self.svc[a]
        else:
            a, t = self.S[v], self.vw[v][0]
        wa, wb, svc = self.wa, self.wb, self.svc
        for x in seq:
            arr = t + T[a][x]
            if arr > wb[x]:
                return False
            t = (arr if arr > wa[x] else wa[x]) + svc[x]
            a = x
        if b_pos < len(R):
            return t + T[a][R[b_pos]] <= self.ls[v][b_pos]
        return t + T[a][self.E[v]] <= self.vw[v][1]

    def room(self, v: int, extra: int) -> bool:
        """Quick capacity test for adding `extra` to route v (always true with meal pairs)."""
        if not self.has_dem or self.paired:
            return True
        loads = self.load[v]
        return (loads[-1] if loads else 0) + extra <= self.cap[v]

    def _neighbours(self, customers: list[int]) -> dict[int, list[int]]:
        """The NEIGHBOURS nearest of each visit by travel, waiting and window clashes."""
        if len(customers) < 2:
            return {x: [] for x in customers}
        inst = self.inst
        cust = np.array(customers)
        c = np.asarray((inst.cost or inst.time)[self.mode[0]])[np.ix_(cust, cust)].astype(float)
        t = np.asarray(inst.time[self.mode[0]])[np.ix_(cust, cust)].astype(float)
        # Cost per unit of time, so that waiting and lateness weigh in the cost's units.
        scale = c.sum() / t.sum() if t.sum() else 1.0
        early = np.array([self.wa[x] for x in customers], dtype=float)
        late = np.array([self.wb[x] for x in customers], dtype=float)
        svc = np.array([self.svc[x] for x in customers], dtype=float)
        # i then j: the least wait at j (leaving i as late as possible) and the least lateness
        # at j (leaving i as early as possible).
        reach_late = late[:, None] + svc[:, None] + t
        reach_early = early[:, None] + svc[:, None] + t
        wait = np.maximum(early[None, :] - reach_late, 0)
        warp = np.maximum(reach_early - late[None, :], 0)
        sub = c + scale * (WAIT_WEIGHT * wait + WARP_WEIGHT * warp)
        sub = np.minimum(sub, sub.T)  # near either way
        np.fill_diagonal(sub, np.inf)
        k = min(NEIGHBOURS, len(customers) - 1)
        near = np.argpartition(sub, k - 1, axis=1)[:, :k]
        out = {}
        for i, x in enumerate(customers):
            row = near[i][np.argsort(sub[i, near[i]], kind="stable")]
            out[x] = [customers[j] for j in row]
        return out

    def idle_near(self, x: int, count: int) -> list[int]:
        """Up to `count` idle vehicles this search may use, of the classes nearest x."""
        out = []
        for k in self.near_classes.get(x, ()):
            idle = self.idle.get(k)
            if idle:
                out.append(min(idle))
                if len(out) >= count:
                    break
        return out

    def route_cost(self, v: int, nodes: list[int]) -> int:
        if not nodes:
            return 0
        C = self.C[self.mode[v]]
        prev, total = self.S[v], 0
        for x in nodes:
            total += C[prev][x]
            prev = x
        total += C[prev][self.E[v]] + self.fixed
        if self.cc:
            total += self.cc * sum(1 for x in nodes if x in self.pref and self.pref[x] != v)
        if self.extra:
            total += self.work_cost(v, nodes)
        return total

    def work_cost(self, v: int, nodes: list[int]) -> int:
        """Cost of the route's working time: past the soft span (overtime) and past the fair
        share (balance). The working time is the shortest the route allows, within the soft
        span when it fits there."""
        items = [self.items[x] for x in nodes]
        timing = None
        if self.soft_rules[v] is not None:
            timing = check(items, self.soft_rules[v])
        if not isinstance(timing, Timing):
            timing = check(items, self.rules[v])
            if not isinstance(timing, Timing):
                return 0  # infeasible: feasible() refuses it anyway
        work = timing.ret - timing.depart
        cost = 0
        soft = self.soft[v]
        if self.span_cost and soft is not None and work > soft:
            cost += self.span_cost * (work - soft)
        target, per = self.balance
        if per and work > target:
            cost += per * (work - target)
        return cost

    def total(self) -> int:
        return sum(self.rc.values()) + sum(self.penalty[x] for x in self.loose())

    def loose(self) -> list[int]:
        routed = {x for r in self.routes.values() for x in r}
        return [x for x in self.customers if x not in routed]

    def cont(self, x: int, v: int) -> int:
        return self.cc if self.cc and x in self.pref and self.pref[x] != v else 0

    # -- the rules ---------------------------------------------------------------------------

    @staticmethod
    def _tt(T):
        return lambda a, b: T[a][b]

    def feasible(self, v: int, nodes: list[int]) -> bool:
        """Every rule the OR-Tools model enforces, for this vehicle driving these nodes."""
        if not nodes:
            return True
        items = self.items
        return isinstance(check([items[x] for x in nodes], self.rules[v]), Timing)

    # -- moves -------------------------------------------------------------------------------

    def _apply(self, changes: dict[int, list[int]]) -> bool:
        """Replace routes if every one is feasible and the exact cost falls; True if done."""
        for v, nodes in changes.items():
            if not self.feasible(v, nodes):
                return False
        new = {v: self.route_cost(v, nodes) for v, nodes in changes.items()}
        if sum(new.values()) >= sum(self.rc[v] for v in changes):
            return False
        for v, nodes in changes.items():
            self.set_route(v, nodes, new[v])
        self.changed = set(changes)
        return True

    def rollback(self) -> None:
        """Put back every route the open journal saw change, and close the journal."""
        for v, (r, c) in self.journal.items():
            self.routes[v], self.rc[v] = r, c
            self._index(v)
        self.journal = None

    def set_route(self, v: int, nodes: list[int], cost: int | None = None) -> None:
        """Replace route v, keeping its old state in the journal (if one is open)."""
        if self.journal is not None and v not in self.journal:
            self.journal[v] = (self.routes[v], self.rc[v])
        self.routes[v] = nodes
        self.rc[v] = self.route_cost(v, nodes) if cost is None else cost
        self._index(v)

    def _succ(self, v: int, i: int) -> int:
        r = self.routes[v]
        return r[i + 1] if i + 1 < len(r) else self.E[v]

    def _pred(self, v: int, i: int) -> int:
        return self.routes[v][i - 1] if i > 0 else self.S[v]

    def _moves_of(self, u: int) -> bool:
        """Try the moves between u and its neighbours; apply the first that gains; True if one."""
        r1, i = self.where[u]
        R1 = self.routes[r1]
        C1 = self.C[self.mode[r1]]
        pu, su = self._pred(r1, i), self._succ(r1, i)
        drop_u = C1[pu][u] + C1[u][su] - C1[pu][su] + self.cont(u, r1)
        if len(R1) == 1:
            drop_u += self.fixed
        plain = not self.cc
        if self.arcs is not None:
            ns = self.neigh[u]
            cands = [(ns[k], f) for k, f in self.arcs.screen(u, self.neigh_np[u], drop_u)]
        else:
            cands = [(v, ~0) for v in self.neigh[u]]
        for v, f in cands:
            w = self.where.get(v)
            if w is None or w[0] not in self.free_set:
                continue
            r2, j = w
            R2 = self.routes[r2]
            if r1 == r2:
                if self._intra(r1, i, j):
                    return True
                continue
            C2 = self.C[self.mode[r2]]
            pv, sv = self._pred(r2, j), self._succ(r2, j)
            cu2 = 0 if plain else self.cont(u, r2)
            du = self.dem[u]
            # Relocate u after v, then before v.
            if (
                f & AFTER
                and C2[v][u] + C2[u][sv] - C2[v][sv] + cu2 < drop_u
                and self.room(r2, du)
                and self.fits(r2, j, [u], j + 1)
                and self._apply({r1: R1[:i] + R1[i + 1 :], r2: [*R2[: j + 1], u, *R2[j + 1 :]]})
            ):
                return True
            if (
                f & BEFORE
                and C2[pv][u] + C2[u][v] - C2[pv][v] + cu2 < drop_u
                and self.room(r2, du)
                and self.fits(r2, j - 1, [u], j)
                and self._apply({r1: R1[:i] + R1[i + 1 :], r2: [*R2[:j], u, *R2[j:]]})
            ):
                return True
            # Swap u and v.
            old = C1[pu][u] + C1[u][su] + C2[pv][v] + C2[v][sv]
            new = C1[pu][v] + C1[v][su] + C2[pv][u] + C2[u][sv]
            cont = 0 if plain else cu2 + self.cont(v, r1) - self.cont(u, r1) - self.cont(v, r2)
            dv = self.dem[v]
            if (
                f & SWAP
                and new - old + cont < 0
                and self.room(r2, du - dv)
                and self.room(r1, dv - du)
                and self.fits(r2, j - 1, [u], j + 1)
                and self.fits(r1, i - 1, [v], i + 1)
                and self._apply({r1: [*R1[:i], v, *R1[i + 1 :]], r2: [*R2[:j], u, *R2[j + 1 :]]})
            ):
                return True
            # Relocate u with its successor after v.
            if f & PAIR and i + 1 < len(R1):
                x = R1[i + 1]
                sx = self._succ(r1, i + 1)
                drop = C1[pu][u] + C1[x][sx] - C1[pu][sx]
                if not plain:
                    drop += self.cont(u, r1) + self.cont(x, r1)
                if len(R1) == 2:
                    drop += self.fixed
                add = C2[v][u] + C2[x][sv] - C2[v][sv] + cu2 + (0 if plain else self.cont(x, r2))
                if (
                    add < drop
                    and self.room(r2, du + self.dem[x])
                    and self.fits(r2, j, [u, x], j + 1)
                    and self._apply(
                        {r1: R1[:i] + R1[i + 2 :], r2: [*R2[: j + 1], u, x, *R2[j + 1 :]]}
                    )
                ):
                    return True
            # 2-opt*: u then v (u's tail to r2), and v then u.
            if (f & TAIL_UV and self._two_opt_star(r1, i, r2, j)) or (
                f & TAIL_VU and self._two_opt_star(r2, j, r1, i)
            ):
                return True
        return self._to_empty(u, r1, i, drop_u)

    def _two_opt_star(self, r1: int, i: int, r2: int, j: int) -> bool:
        """r1 keeps its head up to u and continues with v and r2's tail; r2 gets r1's tail."""
        R1, R2 = self.routes[r1], self.routes[r2]
        u, v = R1[i], R2[j]
        if self.mode[r1] == self.mode[r2] and not self.cc:
            # The arcs that change: u's and v's predecessor's, and each tail's way home.
            C = self.C[self.mode[r1]]
            E1, E2 = self.E[r1], self.E[r2]
            l1, l2 = R1[-1], R2[-1]
            y = R2[j - 1] if j > 0 else self.S[r2]
            if i + 1 < len(R1):
                b = R1[i + 1]
                old = C[u][b] + C[y][v] + C[l2][E2] + C[l1][E1]
                new = C[u][v] + C[l2][E1] + C[y][b] + C[l1][E2]
            else:
                old = C[u][E1] + C[y][v] + C[l2][E2]
                new = C[u][v] + C[l2][E1]
                if j > 0:
                    new += C[y][E2]  # else r2 is left empty: no arc, no fixed cost
                else:
                    new -= self.fixed
            if new >= old:
                return False
        B = R1[i + 1 :]
        if self.E[r1] == self.E[r2] and self.mode[r1] == self.mode[r2]:
            # Latest starts hold for a tail that ends where it ended.
            T = self.T[self.mode[r1]]
            if self.es[r1][i] + self.svc[u] + T[u][v] > self.ls[r2][j]:
                return False
            if B:
                t = self.es[r2][j - 1] + self.svc[R2[j - 1]] if j > 0 else self.vw[r2][0]
                y = R2[j - 1] if j > 0 else self.S[r2]
                if t + T[y][B[0]] > self.ls[r1][i + 1]:
                    return False
        if self.has_dem and not self.paired:
            l1, l2 = self.load[r1], self.load[r2]
            head2 = l2[j - 1] if j > 0 else 0
            if l1[i] + l2[-1] - head2 > self.cap[r1] or head2 + l1[-1] - l1[i] > self.cap[r2]:
                return False
        return self._apply({r1: R1[: i + 1] + R2[j:], r2: R2[:j] + B})

    def _intra(self, r: int, i: int, j: int) -> bool:
        """Within one route: move the visit at i next to the one at j, or reverse between."""
        R = self.routes[r]
        u, v = R[i], R[j]
        C = self.C[self.mode[r]]
        far = abs(i - j) > 1
        if far:
            pu, su = self._pred(r, i), self._succ(r, i)
            pv, sv = self._pred(r, j), self._succ(r, j)
            gain = C[pu][u] + C[u][su] - C[pu][su]
        rest = R[:i] + R[i + 1 :]
        k = j if j < i else j - 1  # v's place once u is out
        for after, cand in (
            (True, [*rest[: k + 1], u, *rest[k + 1 :]]),
            (False, [*rest[:k], u, *rest[k:]]),
        ):
            if far:
                a, b = (v, sv) if after else (pv, v)
                if C[a][u] + C[u][b] - C[a][b] >= gain:
                    continue
            if cand != R and self.route_cost(r, cand) < self.rc[r] and self._apply({r: cand}):
                return True
        a, b = (i + 1, j) if i < j else (j + 1, i)
        if b - a >= 1:
            if self.symmetric:
                x, y = self._pred(r, a), self._succ(r, b)
                if C[x][R[b]] + C[R[a]][y] >= C[x][R[a]] + C[R[b]][y]:
                    return False
            cand = R[:a] + R[a : b + 1][::-1] + R[b + 1 :]
            if self.route_cost(r, cand) < self.rc[r] and self._apply({r: cand}):
                return True
        return False

    def _to_empty(self, u: int, r1: int, i: int, drop_u: int) -> bool:
        """Move u into the route of an idle vehicle starting near it."""
        for w in self.idle_near(u, 3):
            C = self.C[self.mode[w]]
            add = C[self.S[w]][u] + C[u][self.E[w]] + self.fixed + self.cont(u, w)
            if add < drop_u or self.extra:
                R1 = self.routes[r1]
                if self._apply({r1: R1[:i] + R1[i + 1 :], w: [u]}):
                    return True
        return False

    def descend(self, nodes: list[int] | None, deadline: float) -> None:
        """Apply improving moves around the given visits (all when None) until none is left."""
        todo = list(nodes if nodes is not None else self.where)
        self.rng.shuffle(todo)
        active = set(todo)
        while todo and time.monotonic() < deadline:
            u = todo.pop()
            active.discard(u)
            w = self.where.get(u)
            if w is None or w[0] not in self.free_set:
                continue
            if self._moves_of(u):
                # Everything on the routes that changed gets another look.
                if u not in active:
                    active.add(u)
                    todo.append(u)
                for v in self.changed:
                    for x in self.routes[v]:
                        if x not in active:
                            active.add(x)
                            todo.append(x)
