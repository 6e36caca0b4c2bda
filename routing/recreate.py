"""Ruin and recreate over the local search (`routing.localsearch`), and fleet minimisation.

After a local optimum of the granular moves, until the deadline: remove some visits (strings
of visits from a few routes near a random visit, as in Christiaens & Vanden Berghe's SISR, or
now and then one whole route), insert them again each at its cheapest feasible place (skipping
a few places at random), run the local search on what changed, and keep the result under a
threshold that cools from TEMP_START to TEMP_END of the mean cost per visit.

Fleet minimisation (`Search.minimise_fleet`, SISR's route-minimisation phase) comes first on
days from one depot: the shortest route is emptied and its visits join a pool of absent visits;
each ruin and recreate is kept when it leaves fewer absent visits, or absent visits that were
absent less often (absence counters); when the pool empties a route has gone, and the next
shortest is emptied. The routes of the last complete plan are kept.
"""

from __future__ import annotations

import logging
import math
import time

from routing.instance import Instance
from routing.localsearch import LocalSearch

log = logging.getLogger(__name__)

# The ruin's average removal (SISR's c-bar), its longest string, and the share of places the
# recreate skips at random (blinks).
RUIN_MEAN = 10
MAX_STRING = 10
BLINK = 0.01
# Share of ruin-and-recreate iterations that empty one whole route instead of cutting strings.
ROUTE_RUIN = 0.1
# Visits allowed to at most this many caregivers are tried everywhere in their routes.
FEW_ALLOWED = 3
# Simulated-annealing thresholds as shares of the mean cost per visit (SISR's T0 and Tf).
TEMP_START, TEMP_END = 0.05, 0.001


class Search:
    """Local search plus ruin and recreate on the routes of one instance."""

    def __init__(
        self,
        inst: Instance,
        routes: dict[int, list[int]],
        seed: int = 0,
        skip: frozenset[int] = frozenset(),
        vector: bool = True,
    ) -> None:
        self.ls = LocalSearch(inst, routes, seed, skip, vector)
        self.rng = self.ls.rng
        # Whether the recreate may start an idle vehicle's route (not while minimising them).
        self.open_routes = True

    def reset(self, routes, vehicles=None, customers=None) -> None:
        self.ls.reset(routes, vehicles, customers)

    # -- ruin ----------------------------------------------------------------------------------

    def _movable(self) -> list[int]:
        ls = self.ls
        return [x for x, (v, _) in ls.where.items() if x not in ls.paired and v in ls.free_set]

    def ruin_strings(self, near: int | None = None) -> list[int]:
        """Remove strings of visits from routes near a random visit (SISR), or near `near`."""
        ls = self.ls
        if near is not None:
            seed = near
        else:
            movable = self._movable()
            if not movable:
                return []
            seed = self.rng.choice(movable)
        routed = [r for v, r in ls.routes.items() if r and v in ls.free_set]
        avg = sum(len(r) for r in routed) / max(1, len(routed))
        l_max = min(MAX_STRING, avg)
        k_s = max(1, int(self.rng.uniform(1, 4 * RUIN_MEAN / (1 + l_max) - 1 + 1)))
        removed: list[int] = []
        done: set[int] = set()
        for x in [seed, *ls.neigh[seed]]:
            if len(done) >= k_s:
                break
            w = ls.where.get(x)
            if w is None or w[0] in done or w[0] not in ls.free_set or x in ls.paired:
                continue
            v, i = w
            R = ls.routes[v]
            length = self.rng.randint(1, max(1, min(len(R), int(l_max))))
            lo = max(0, min(i - self.rng.randint(0, length - 1), len(R) - length))
            removed += self._take(v, R[lo : lo + length])
            done.add(v)
        return removed

    def ruin_route(self, v: int | None = None) -> list[int]:
        """Empty one route (a random one of the free vehicles' unless given)."""
        ls = self.ls
        if v is None:
            used = [u for u in ls.free if ls.routes[u]]
            if not used:
                return []
            v = self.rng.choice(used)
        return self._take(v, list(ls.routes[v]))

    def _take(self, v: int, nodes: list[int]) -> list[int]:
        ls = self.ls
        take = [y for y in nodes if y not in ls.paired]
        for y in take:
            del ls.where[y]
        gone = set(take)
        ls.set_route(v, [y for y in ls.routes[v] if y not in gone])
        return take

    # -- recreate ------------------------------------------------------------------------------

    def insert(self, x: int, wide: bool = False) -> bool:
        """Insert x at its cheapest feasible place next to one of its neighbours or alone;
        `wide`: anywhere in the routes of its neighbours."""
        ls = self.ls
        best = None
        seen: set[tuple[int, int]] = set()
        if wide:
            vs = dict.fromkeys(w[0] for y in ls.neigh[x] if (w := ls.where.get(y)))
            places = [(v, range(len(ls.routes[v]) + 1)) for v in vs]
        else:
            places = [(w[0], (w[1], w[1] + 1)) for y in ls.neigh[x] if (w := ls.where.get(y))]
        only = ls.allowed.get(x, ())
        if len(only) <= FEW_ALLOWED:
            # A visit for one caregiver or a few (a fixed double-staffed visit, a rare skill):
            # anywhere in their routes.
            places += [(v, range(len(ls.routes[v]) + 1)) for v in only]
        rng = self.rng
        for v, where in places:
            if v not in ls.free_set:
                continue
            R = ls.routes[v]
            C = ls.C[ls.mode[v]]
            for p in where:  # before y, after y; or every place
                if (v, p) in seen or rng.random() < BLINK:
                    continue
                seen.add((v, p))
                a = R[p - 1] if p > 0 else ls.S[v]
                b = R[p] if p < len(R) else ls.E[v]
                add = C[a][x] + C[x][b] - C[a][b] + ls.cont(x, v)
                if best is not None and add >= best[0]:
                    continue
                if not (ls.room(v, ls.dem[x]) and ls.fits(v, p - 1, [x], p)):
                    continue
                cand = [*R[:p], x, *R[p:]]
                if ls.feasible(v, cand):
                    if ls.extra:  # working time costs too: the exact change
                        add = ls.route_cost(v, cand) - ls.rc[v]
                        if best is not None and add >= best[0]:
                            continue
                    best = (add, v, cand)
        for w in ls.idle_near(x, 2) if self.open_routes else ():
            C = ls.C[ls.mode[w]]
            add = C[ls.S[w]][x] + C[x][ls.E[w]] + ls.fixed + ls.cont(x, w)
            if ls.extra and ls.feasible(w, [x]):
                add = ls.route_cost(w, [x])
            if (best is None or add < best[0]) and ls.feasible(w, [x]):
                best = (add, w, [x])
        if best is None:
            return False
        _, v, cand = best
        ls.set_route(v, cand)
        return True

    def insert_pair(self, p: int, d: int) -> bool:
        """Insert a meal's pickup and delivery, in that order, into the cheapest route that
        takes both: the routes of the delivery's nearest visits and idle caregivers nearby."""
        ls = self.ls
        vehicles = {w[0] for y in ls.neigh[d] if (w := ls.where.get(y))}
        vehicles |= set(ls.idle_near(d, 3))
        best = None
        for v in sorted(vehicles & ls.free_set):
            R = ls.routes[v]
            for i in range(len(R) + 1):
                for j in range(i, len(R) + 1):
                    cand = [*R[:i], p, *R[i:j], d, *R[j:]]
                    add = ls.route_cost(v, cand) - ls.rc[v]
                    if (best is None or add < best[0]) and ls.feasible(v, cand):
                        best = (add, v, cand)
        if best is None:
            return False
        ls.set_route(best[1], best[2])
        return True

    def force(self, x: int) -> bool:
        """Put a visit for one caregiver into their route in place of one or two of its visits.

        Kept only if every visit taken out finds a place elsewhere (a fixed double-staffed
        visit that nothing else could take wins its slot; nothing is lost).
        """
        ls = self.ls
        (v,) = ls.allowed[x]
        if v not in ls.free_set:
            return False
        for k in (1, 2):
            R = ls.routes[v]
            for i in range(len(R) - k + 1):
                out = R[i : i + k]
                if any(y in ls.paired for y in out):
                    continue
                cand = [*R[:i], x, *R[i + k :]]
                if not ls.feasible(v, cand):
                    continue
                ls.journal = {}
                for y in out:
                    del ls.where[y]
                ls.set_route(v, cand)
                if not self.recreate(list(out)):
                    ls.journal = None
                    return True
                ls.rollback()
                ls.where.pop(x, None)
        return False

    def recreate(self, removed: list[int], wide: frozenset[int] = frozenset()) -> list[int]:
        """Insert the removed visits again (in a random order of a few kinds); returns misfits."""
        ls = self.ls
        how = self.rng.random()
        if how < 0.4:
            self.rng.shuffle(removed)
        elif how < 0.7:
            removed.sort(key=lambda x: ls.wb[x] - ls.wa[x])  # tightest window first
        else:
            # Far from the (first) depot first.
            removed.sort(key=lambda x: -ls.C[ls.mode[0]][ls.S[0]][x])
        return [x for x in removed if not self.insert(x, x in wide)]

    def place_loose(self) -> None:
        """Insert what no route serves yet: single visits, fixed ones by force, meal pairs."""
        ls = self.ls
        loose = [x for x in ls.loose() if x not in ls.paired]
        if loose:
            for x in self.recreate(loose):
                if len(ls.allowed.get(x, ())) == 1:
                    self.force(x)
        for d in [x for x in ls.loose() if x in ls.pickup]:
            if ls.pickup[d] in ls.customers and ls.pickup[d] not in ls.where:
                self.insert_pair(ls.pickup[d], d)

    # -- the searches --------------------------------------------------------------------------

    def snapshot(self) -> dict[int, list[int]]:
        return {v: list(r) for v, r in self.ls.routes.items()}

    def minimise_fleet(self, deadline: float, max_iters: int | None = None) -> None:
        """Empty routes while every visit still finds a place (SISR's fleet minimisation).

        Ends with the plan of fewest routes that served every visit the start served.
        """
        ls = self.ls
        self.open_routes = False
        best = self.snapshot()
        absent: dict[int, int] = {}
        pool: list[int] = []
        iters = removed_routes = 0
        while time.monotonic() < deadline and (max_iters is None or iters < max_iters):
            if not pool:
                best = self.snapshot()
                used = [v for v in ls.free if ls.routes[v]]
                # Meal pickups and deliveries are never ruined apart: their routes stay.
                plain = [v for v in used if not any(x in ls.paired for x in ls.routes[v])]
                if len(used) <= 1 or not plain:
                    break
                shortest = min(plain, key=lambda v: (len(ls.routes[v]), v))
                removed_routes += 1
                ls.journal = None
                pool = self.ruin_route(shortest)
                pool = self.recreate(pool, frozenset(pool))
                continue
            iters += 1
            ls.journal = {}
            # Make room where an absent visit belongs: strings near it.
            removed = self.ruin_strings(self.rng.choice(pool))
            before = (len(pool), sum(absent.get(x, 0) for x in pool))
            misfit = self.recreate(removed + pool, frozenset(pool))
            if len(misfit) < len(pool):
                ls.descend(removed, deadline)  # tighter routes leave room for the rest
            after = (len(misfit), sum(absent.get(x, 0) for x in misfit))
            if len(misfit) < before[0] or (len(misfit) == before[0] and after[1] < before[1]):
                ls.journal = None
                pool = misfit
            else:
                ls.rollback()
                for x in pool:  # placed only in the routes just rolled back
                    ls.where.pop(x, None)
            for x in pool:
                absent[x] = absent.get(x, 0) + 1
        ls.journal = None
        self.open_routes = True
        if pool:
            self.reset(best, ls.free, ls.customers)
        log.debug("fleet minimisation: %d iterations, %d routes removed", iters, removed_routes)

    def run(
        self,
        deadline: float,
        heat: tuple[float, float] = (0.0, 1.0),
        max_iters: int | None = None,
        fleet_until: float | None = None,
        min_iters: int = 0,
    ) -> dict[int, list[int]]:
        """Local search, then ruin and recreate until the deadline; returns the best routes.

        With `fleet_until`, fleet minimisation runs first until then. With `min_iters`, the
        first local search runs to its end and at least that many ruin-and-recreate
        iterations run, whatever the clock says (a floor for tiny days on a busy machine).

        The acceptance threshold cools from TEMP_START to TEMP_END (times the mean cost per
        visit) over the whole search; `heat` is the part of it this run covers. With
        `max_iters` the search stops after that many ruin-and-recreate iterations and cools
        by iterations, not time (for measurements that do not depend on machine speed).
        """
        ls = self.ls
        self.place_loose()
        ls.descend(None, math.inf if min_iters else deadline)
        if fleet_until is not None and fleet_until > time.monotonic():
            self.minimise_fleet(min(deadline, fleet_until))
            ls.descend(None, deadline)
        cur = ls.total()
        best_cost, best = cur, self.snapshot()
        t0, span = time.monotonic(), max(1e-3, deadline - time.monotonic())
        per_visit = (sum(ls.rc.values()) / max(1, len(ls.where))) or 1
        temp0, temp1 = TEMP_START * per_visit, TEMP_END * per_visit
        iters = 0
        while (time.monotonic() < deadline or iters < min_iters) and (
            max_iters is None or iters < max_iters
        ):
            iters += 1
            ls.journal = {}
            removed = self.ruin_route() if self.rng.random() < ROUTE_RUIN else self.ruin_strings()
            if not removed:
                ls.journal = None
                break
            misfit = self.recreate(removed)
            if not misfit:
                ls.descend(removed, math.inf if iters <= min_iters else deadline)
            delta = sum(ls.rc[v] - old for v, (_, old) in ls.journal.items())
            done = iters / max_iters if max_iters else min(1.0, (time.monotonic() - t0) / span)
            frac = heat[0] + (heat[1] - heat[0]) * done
            temp = temp0 * (temp1 / temp0) ** frac
            if not misfit and delta < -temp * math.log(self.rng.random() or 1e-12):
                cur += delta
                if cur < best_cost:
                    best_cost, best = cur, self.snapshot()
                ls.journal = None
            else:
                ls.rollback()
        ls.journal = None
        log.debug("local search: %d ruin-and-recreate iterations", iters)
        return best


def improve(
    inst: Instance,
    routes: dict[int, list[int]],
    deadline: float,
    seed: int = 0,
    skip: frozenset[int] = frozenset(),
    min_iters: int = 0,
) -> dict[int, list[int]]:
    """Better routes for the same instance: every visit routed before stays routed."""
    return Search(inst, routes, seed, skip).run(deadline, min_iters=min_iters)
