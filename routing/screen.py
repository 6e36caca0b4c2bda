"""Arc-cost screens of the granular moves, for all neighbours of one visit at once (numpy).

`routing.localsearch.LocalSearch` tries, for a visit u and each of its neighbours v: relocate
u after v and before v, swap u and v, relocate u with its successor after v, and 2-opt* both
ways (exchange the route tails after u and before v, or after v and before u). Almost every
one of these fails on the change in arc cost alone, and testing that one pair at a time in
Python took most of the search's time (on rc1_10_1, about 80 % of it). `Arcs` keeps each
visit's route, position, predecessor and successor in arrays, and `Arcs.screen` computes the
same cost tests for all neighbours as vectors; the caller then checks feasibility only of the
moves that pass, in the same order as before, so the search takes the same steps.

Only for one travel mode and no continuity cost (the arc costs are then one matrix and the
tests are the arcs' alone); `LocalSearch` tests pair by pair otherwise.
"""

from __future__ import annotations

import numpy as np

# Bits of a neighbour's flags: the moves whose arc cost falls, and "in u's own route".
AFTER, BEFORE, SWAP, PAIR, TAIL_UV, TAIL_VU, SAME = 1, 2, 4, 8, 16, 32, 64


class Arcs:
    """Each routed visit's route, position, predecessor and successor, as arrays."""

    def __init__(self, cost: np.ndarray, starts: list[int], ends: list[int], fixed: int) -> None:
        n, nv = len(cost), len(starts)
        self.C = np.ascontiguousarray(cost, dtype=np.int64)
        self.CT = np.ascontiguousarray(self.C.T)
        self.S = np.asarray(starts, dtype=np.int64)
        self.E = np.asarray(ends, dtype=np.int64)
        self.fixed = int(fixed)
        self.route = np.full(n, -1, dtype=np.int64)
        self.pos = np.zeros(n, dtype=np.int64)
        self.pred = np.zeros(n, dtype=np.int64)
        self.succ = np.zeros(n, dtype=np.int64)
        self.last = self.S.copy()  # the start of an empty route
        self.size = np.zeros(nv, dtype=np.int64)

    def clear(self) -> None:
        self.route[:] = -1

    def index(self, v: int, nodes: list[int]) -> None:
        """Route v now drives `nodes` (visits that left it keep stale entries: the caller
        knows where each visit is and skips those)."""
        k = len(nodes)
        self.size[v] = k
        if not k:
            self.last[v] = self.S[v]
            return
        r = np.asarray(nodes, dtype=np.int64)
        self.route[r] = v
        self.pos[r] = np.arange(k)
        self.pred[r[0]] = self.S[v]
        self.pred[r[1:]] = r[:-1]
        self.succ[r[:-1]] = r[1:]
        self.succ[r[-1]] = self.E[v]
        self.last[v] = r[-1]

    def screen(self, u: int, nb: np.ndarray, drop_u: int) -> list[tuple[int, int]]:
        """(index into nb, flags) of the neighbours of u with some move whose arc cost falls,
        or in u's own route; `drop_u` is what taking u out of its route saves."""
        C, CT = self.C, self.CT
        r1, i = int(self.route[u]), int(self.pos[u])
        n1, pu, su = int(self.size[r1]), int(self.pred[u]), int(self.succ[u])
        E1, l1, fixed = int(self.E[r1]), int(self.last[r1]), self.fixed
        r2, j, pv, sv = self.route[nb], self.pos[nb], self.pred[nb], self.succ[nb]
        E2, l2 = self.E[r2], self.last[r2]
        to_u, from_u = CT[u], C[u]
        c_v_sv = C[nb, sv]
        c_pv_v = C[pv, nb]
        u_in_v = to_u[nb]
        flags = (r2 == r1) * SAME
        # Relocate u after v, before v.
        flags |= (u_in_v + from_u[sv] - c_v_sv < drop_u) * AFTER
        flags |= (to_u[pv] + from_u[nb] - c_pv_v < drop_u) * BEFORE
        # Swap u and v.
        old = C[pu, u] + C[u, su] + c_pv_v + c_v_sv
        new = C[pu, nb] + C[nb, su] + to_u[pv] + from_u[sv]
        flags |= (new < old) * SWAP
        last_u = i + 1 >= n1
        if not last_u:
            # u with its successor x after v.
            x = su
            sx = int(self.succ[x])
            drop = C[pu, u] + C[x, sx] - C[pu, sx] + (fixed if n1 == 2 else 0)
            flags |= (u_in_v + C[x, sv] - c_v_sv < drop) * PAIR
        # 2-opt*: r1 keeps its head to u and goes on with v and r2's tail.
        if not last_u:
            old = C[u, su] + c_pv_v + C[l2, E2] + C[l1, E1]
            new = from_u[nb] + C[l2, E1] + C[pv, su] + C[l1, E2]
        else:
            old = C[u, E1] + c_pv_v + C[l2, E2]
            new = from_u[nb] + C[l2, E1] + np.where(j > 0, C[pv, E2], -fixed)
        flags |= (new < old) * TAIL_UV
        # 2-opt*: r2 keeps its head to v and goes on with u and r1's tail.
        v_last = j + 1 >= self.size[r2]
        old_mid = c_v_sv + C[pu, u] + C[l1, E1]
        new_mid = u_in_v + C[l1, E2]
        old = old_mid + np.where(v_last, 0, C[l2, E2])
        tail_end = C[pu, E1] if i > 0 else -fixed
        new = new_mid + np.where(v_last, tail_end, C[pu, sv] + C[l2, E1])
        flags |= (new < old) * TAIL_VU
        hit = np.flatnonzero(flags)
        return list(zip(hit.tolist(), flags[hit].tolist(), strict=True))
