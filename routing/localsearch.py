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
import math
import random
import time

import numpy as np

from routing.instance import END, START, Instance
from routing.schedule import Item, Rules, Timing, check, first_start

log = logging.getLogger(__name__)

# Neighbours per visit for the granular moves, and the ruin's average removal (SISR's c-bar).
NEIGHBOURS = 20
RUIN_MEAN = 10
MAX_STRING = 10
BLINK = 0.01
# Visits allowed to at most this many caregivers are tried everywhere in their routes.
FEW_ALLOWED = 3
# Simulated-annealing thresholds as shares of the mean cost per visit (SISR's T0 and Tf).
TEMP_START, TEMP_END = 0.05, 0.001


def _latest_start(bound: int, windows) -> int:
    """The latest start at or before bound inside one of the windows (very small if none)."""
    for a, b in reversed(windows):
        if a <= bound:
            return min(b, bound)
    return -(10**15)


class LocalSearch:
    """Routes of one instance with the data to move visits between them quickly."""

    def __init__(
        self,
        inst: Instance,
        routes: dict[int, list[int]],
        seed: int = 0,
        skip: frozenset[int] = frozenset(),
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
        # Vehicles whose routes this search may ever change.
        self.movable = [v for v in range(nv) if not inst.breaks[v] and v not in inst.locks]
        self.all_customers = [
            x for x in range(inst.n) if inst.kind[x] not in (START, END) and x not in skip
        ]
        self.neigh = self._neighbours(self.all_customers)
        # Per visit, vehicles by the cost of an out-and-back trip from their start.
        self.by_start: dict[int, list[int]] = {}
        if self.movable and self.all_customers:
            c0 = np.asarray(costs[modes[0]])
            starts = np.array([self.S[v] for v in self.movable])
            ends = np.array([self.E[v] for v in self.movable])
            cust = np.array(self.all_customers)
            trip = c0[np.ix_(starts, cust)] + c0[np.ix_(cust, ends)].T
            order = np.argsort(trip, axis=0, kind="stable")[: min(len(self.movable), 40)]
            for k, x in enumerate(self.all_customers):
                self.by_start[x] = [self.movable[i] for i in order[:, k]]
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
        for v in self.free:
            self._index(v)
        self.rc = {v: self.route_cost(v, self.routes[v]) for v in range(nv)}
        self.customers = self.all_customers if customers is None else customers
        self.journal: dict[int, tuple[list[int], int]] | None = None

    # -- bookkeeping -------------------------------------------------------------------------

    def _index(self, v: int) -> None:
        """Positions, earliest and latest starts and loads of route v (after any change)."""
        R = self.routes[v]
        for i, x in enumerate(R):
            self.where[x] = (v, i)
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
                bound = _latest_start(bound, self.W[x])
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

    def _fits(self, v: int, a_pos: int, seq: list[int], b_pos: int) -> bool:
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

    def _room(self, v: int, extra: int) -> bool:
        """Quick capacity test for adding `extra` to route v (always true with meal pairs)."""
        if not self.has_dem or self.paired:
            return True
        loads = self.load[v]
        return (loads[-1] if loads else 0) + extra <= self.cap[v]

    def _neighbours(self, customers: list[int]) -> dict[int, list[int]]:
        if len(customers) < 2:
            return {x: [] for x in customers}
        c = np.asarray((self.inst.cost or self.inst.time)[self.mode[0]])
        cust = np.array(customers)
        sub = c[np.ix_(cust, cust)].astype(float)
        sub = np.minimum(sub, sub.T)  # near either way
        np.fill_diagonal(sub, np.inf)
        k = min(NEIGHBOURS, len(customers) - 1)
        near = np.argpartition(sub, k - 1, axis=1)[:, :k]
        out = {}
        for i, x in enumerate(customers):
            row = near[i][np.argsort(sub[i, near[i]], kind="stable")]
            out[x] = [customers[j] for j in row]
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
        return total

    def total(self) -> int:
        return sum(self.rc.values()) + sum(self.penalty[x] for x in self.loose())

    def loose(self) -> list[int]:
        routed = {x for r in self.routes.values() for x in r}
        return [x for x in self.customers if x not in routed]

    def _cont(self, x: int, v: int) -> int:
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
            self._set(v, nodes, new[v])
        self.changed = set(changes)
        return True

    def _rollback(self) -> None:
        """Put back every route the open journal saw change, and close the journal."""
        for v, (r, c) in self.journal.items():
            self.routes[v], self.rc[v] = r, c
            self._index(v)
        self.journal = None

    def _set(self, v: int, nodes: list[int], cost: int | None = None) -> None:
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
        drop_u = C1[pu][u] + C1[u][su] - C1[pu][su] + self._cont(u, r1)
        if len(R1) == 1:
            drop_u += self.fixed
        plain = not self.cc
        for v in self.neigh[u]:
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
            cu2 = 0 if plain else self._cont(u, r2)
            du = self.dem[u]
            # Relocate u after v, then before v.
            if (
                C2[v][u] + C2[u][sv] - C2[v][sv] + cu2 < drop_u
                and self._room(r2, du)
                and self._fits(r2, j, [u], j + 1)
                and self._apply({r1: R1[:i] + R1[i + 1 :], r2: [*R2[: j + 1], u, *R2[j + 1 :]]})
            ):
                return True
            if (
                C2[pv][u] + C2[u][v] - C2[pv][v] + cu2 < drop_u
                and self._room(r2, du)
                and self._fits(r2, j - 1, [u], j)
                and self._apply({r1: R1[:i] + R1[i + 1 :], r2: [*R2[:j], u, *R2[j:]]})
            ):
                return True
            # Swap u and v.
            old = C1[pu][u] + C1[u][su] + C2[pv][v] + C2[v][sv]
            new = C1[pu][v] + C1[v][su] + C2[pv][u] + C2[u][sv]
            cont = 0 if plain else cu2 + self._cont(v, r1) - self._cont(u, r1) - self._cont(v, r2)
            dv = self.dem[v]
            if (
                new - old + cont < 0
                and self._room(r2, du - dv)
                and self._room(r1, dv - du)
                and self._fits(r2, j - 1, [u], j + 1)
                and self._fits(r1, i - 1, [v], i + 1)
                and self._apply({r1: [*R1[:i], v, *R1[i + 1 :]], r2: [*R2[:j], u, *R2[j + 1 :]]})
            ):
                return True
            # Relocate u with its successor after v.
            if i + 1 < len(R1):
                x = R1[i + 1]
                sx = self._succ(r1, i + 1)
                drop = C1[pu][u] + C1[x][sx] - C1[pu][sx]
                if not plain:
                    drop += self._cont(u, r1) + self._cont(x, r1)
                if len(R1) == 2:
                    drop += self.fixed
                add = C2[v][u] + C2[x][sv] - C2[v][sv] + cu2 + (0 if plain else self._cont(x, r2))
                if (
                    add < drop
                    and self._room(r2, du + self.dem[x])
                    and self._fits(r2, j, [u, x], j + 1)
                    and self._apply(
                        {r1: R1[:i] + R1[i + 2 :], r2: [*R2[: j + 1], u, x, *R2[j + 1 :]]}
                    )
                ):
                    return True
            # 2-opt*: u then v (u's tail to r2), and v then u.
            if self._two_opt_star(r1, i, r2, j) or self._two_opt_star(r2, j, r1, i):
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
        tried = 0
        for w in self.by_start.get(u, ()):
            if self.routes[w] or w == r1 or w not in self.free_set:
                continue
            C = self.C[self.mode[w]]
            add = C[self.S[w]][u] + C[u][self.E[w]] + self.fixed + self._cont(u, w)
            if add < drop_u:
                R1 = self.routes[r1]
                if self._apply({r1: R1[:i] + R1[i + 1 :], w: [u]}):
                    return True
            tried += 1
            if tried >= 3:
                break
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

    # -- ruin and recreate -------------------------------------------------------------------

    def _ruin(self) -> list[int]:
        """Remove strings of visits from routes near a random visit (SISR)."""
        movable = [
            x for x in self.where if x not in self.paired and self.where[x][0] in self.free_set
        ]
        if not movable:
            return []
        seed = self.rng.choice(movable)
        routed = [r for v, r in self.routes.items() if r and v in self.free_set]
        avg = sum(len(r) for r in routed) / max(1, len(routed))
        l_max = min(MAX_STRING, avg)
        k_s = max(1, int(self.rng.uniform(1, 4 * RUIN_MEAN / (1 + l_max) - 1 + 1)))
        removed: list[int] = []
        done: set[int] = set()
        for x in [seed, *self.neigh[seed]]:
            if len(done) >= k_s:
                break
            w = self.where.get(x)
            if w is None or w[0] in done or w[0] not in self.free_set or x in self.paired:
                continue
            v, i = w
            R = self.routes[v]
            length = self.rng.randint(1, max(1, min(len(R), int(l_max))))
            lo = max(0, min(i - self.rng.randint(0, length - 1), len(R) - length))
            take = [y for y in R[lo : lo + length] if y not in self.paired]
            for y in take:
                del self.where[y]
            self._set(v, [y for y in R if y not in take])
            removed += take
            done.add(v)
        return removed

    def _insert(self, x: int) -> bool:
        """Insert x at its cheapest feasible place next to one of its neighbours or alone."""
        best = None
        seen: set[tuple[int, int]] = set()
        places = [(w[0], (w[1], w[1] + 1)) for y in self.neigh[x] if (w := self.where.get(y))]
        only = self.allowed.get(x, ())
        if len(only) <= FEW_ALLOWED:
            # A visit for one caregiver or a few (a fixed double-staffed visit, a rare skill):
            # anywhere in their routes.
            places += [(v, range(len(self.routes[v]) + 1)) for v in only]
        for v, where in places:
            if v not in self.free_set:
                continue
            R = self.routes[v]
            C = self.C[self.mode[v]]
            for p in where:  # before y, after y; or every place
                if (v, p) in seen or self.rng.random() < BLINK:
                    continue
                seen.add((v, p))
                a = R[p - 1] if p > 0 else self.S[v]
                b = R[p] if p < len(R) else self.E[v]
                add = C[a][x] + C[x][b] - C[a][b] + self._cont(x, v)
                if best is not None and add >= best[0]:
                    continue
                if not (self._room(v, self.dem[x]) and self._fits(v, p - 1, [x], p)):
                    continue
                cand = [*R[:p], x, *R[p:]]
                if self.feasible(v, cand):
                    best = (add, v, cand)
        tried = 0
        for w in self.by_start.get(x, ()):
            if self.routes[w] or w not in self.free_set:
                continue
            C = self.C[self.mode[w]]
            add = C[self.S[w]][x] + C[x][self.E[w]] + self.fixed + self._cont(x, w)
            if (best is None or add < best[0]) and self.feasible(w, [x]):
                best = (add, w, [x])
            tried += 1
            if tried >= 2:
                break
        if best is None:
            return False
        _, v, cand = best
        self._set(v, cand)
        return True

    def _insert_pair(self, p: int, d: int) -> bool:
        """Insert a meal's pickup and delivery, in that order, into the cheapest route that
        takes both: the routes of the delivery's nearest visits and idle caregivers nearby."""
        vehicles = {w[0] for y in self.neigh[d] if (w := self.where.get(y))}
        vehicles |= {v for v in self.by_start.get(d, ())[:3] if not self.routes[v]}
        best = None
        for v in vehicles & self.free_set:
            R = self.routes[v]
            for i in range(len(R) + 1):
                for j in range(i, len(R) + 1):
                    cand = [*R[:i], p, *R[i:j], d, *R[j:]]
                    add = self.route_cost(v, cand) - self.rc[v]
                    if (best is None or add < best[0]) and self.feasible(v, cand):
                        best = (add, v, cand)
        if best is None:
            return False
        self._set(best[1], best[2])
        return True

    def _force(self, x: int) -> bool:
        """Put a visit for one caregiver into their route in place of one or two of its visits.

        Kept only if every visit taken out finds a place elsewhere (a fixed double-staffed
        visit that nothing else could take wins its slot; nothing is lost).
        """
        (v,) = self.allowed[x]
        if v not in self.free_set:
            return False
        for k in (1, 2):
            R = self.routes[v]
            for i in range(len(R) - k + 1):
                out = R[i : i + k]
                if any(y in self.paired for y in out):
                    continue
                cand = [*R[:i], x, *R[i + k :]]
                if not self.feasible(v, cand):
                    continue
                self.journal = {}
                for y in out:
                    del self.where[y]
                self._set(v, cand)
                if not self.recreate(list(out)):
                    self.journal = None
                    return True
                self._rollback()
                self.where.pop(x, None)
        return False

    def recreate(self, removed: list[int]) -> list[int]:
        """Insert the removed visits again (in a random order of a few kinds); returns misfits."""
        how = self.rng.random()
        if how < 0.4:
            self.rng.shuffle(removed)
        elif how < 0.7:
            removed.sort(key=lambda x: self.wb[x] - self.wa[x])  # tightest window first
        else:
            # Far from the (first) depot first.
            removed.sort(key=lambda x: -self.C[self.mode[0]][self.S[0]][x])
        return [x for x in removed if not self._insert(x)]

    def run(
        self,
        deadline: float,
        heat: tuple[float, float] = (0.0, 1.0),
        max_iters: int | None = None,
    ) -> dict[int, list[int]]:
        """Local search, then ruin and recreate until the deadline; returns the best routes.

        The acceptance threshold cools from TEMP_START to TEMP_END (times the mean cost per
        visit) over the whole search; `heat` is the part of it this run covers. With
        `max_iters` the search stops after that many ruin-and-recreate iterations and cools
        by iterations, not time (for measurements that do not depend on machine speed).
        """
        loose = [x for x in self.loose() if x not in self.paired]
        if loose:
            for x in self.recreate(loose):
                if len(self.allowed.get(x, ())) == 1:
                    self._force(x)
        for d in [x for x in self.loose() if x in self.pickup]:
            if self.pickup[d] in self.customers and self.pickup[d] not in self.where:
                self._insert_pair(self.pickup[d], d)
        self.descend(None, deadline)
        cur = self.total()
        best_cost, best = cur, {v: list(r) for v, r in self.routes.items()}
        t0, span = time.monotonic(), max(1e-3, deadline - time.monotonic())
        per_visit = (sum(self.rc.values()) / max(1, len(self.where))) or 1
        temp0, temp1 = TEMP_START * per_visit, TEMP_END * per_visit
        iters = 0
        while time.monotonic() < deadline and (max_iters is None or iters < max_iters):
            iters += 1
            self.journal = {}
            removed = self._ruin()
            if not removed:
                break
            misfit = self.recreate(removed)
            if not misfit:
                self.descend(removed, deadline)
            delta = sum(self.rc[v] - old for v, (_, old) in self.journal.items())
            done = iters / max_iters if max_iters else (time.monotonic() - t0) / span
            frac = heat[0] + (heat[1] - heat[0]) * done
            temp = temp0 * (temp1 / temp0) ** frac
            if not misfit and delta < -temp * math.log(self.rng.random() or 1e-12):
                cur += delta
                if cur < best_cost:
                    best_cost, best = cur, {v: list(r) for v, r in self.routes.items()}
                self.journal = None
            else:
                self._rollback()
        self.journal = None
        log.debug("local search: %d ruin-and-recreate iterations", iters)
        return best


def improve(
    inst: Instance,
    routes: dict[int, list[int]],
    deadline: float,
    seed: int = 0,
    skip: frozenset[int] = frozenset(),
) -> dict[int, list[int]]:
    """Better routes for the same instance: every visit routed before stays routed."""
    ls = LocalSearch(inst, routes, seed, skip)
    return ls.run(deadline)
