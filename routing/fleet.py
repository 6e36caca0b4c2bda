"""Compiled fleet minimisation for plain VRPTW days from one depot (SISR's, over routing.sisr).

Christiaens & Vanden Berghe (2020) minimise the fleet before the distance: empty the shortest
route, put its visits in a pool of *absent* visits, and ruin and recreate around them: strings
of visits near a random absent one are taken out, then those and the pool are inserted at their
cheapest feasible places (no idle vehicle is offered). An iteration is kept when it leaves fewer
visits absent, or absent visits that were absent less often in all (each visit counts the
iterations it spent absent); otherwise it is undone. When the pool is empty the plan is the
best so far and the next shortest route is emptied. The result is the last plan that served
every visit, so it has at most the routes it started from.

The search runs over the arrays of a `routing.sisr.Sisr` (its routes, earliest and latest
starts, loads), with the same O(1) insertion test (`routing.sisrcore`'s functions, compiled
into it), and numba compiles it like routing.sisr (`warm`, run by make install; without numba
it is plain Python, used by the tests only).
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
import time
from pathlib import Path

import numpy as np

from routing import sisr, sisrcore
from routing.instance import START, VISIT, Instance

# Iterations per compiled call; between calls the deadline is checked.
CHUNK = 500


def _search(
    C, T, a, b, svc, q, cap, S, E, OPEN, CLOSE, SPAN, ALLOW, neigh, vehicles, R, L, rt, ps,
    ES, LS, LD, RC, BR, BL, stamp, mark, BestR, BestL, rng, iters, counter, pool, state, absent,
):  # fmt: skip
    """`iters` fleet-minimisation iterations. pool[:state[0]]: the absent visits; state[1]:
    routes emptied so far; state[2]: 1 once no route can be emptied; state[3]: the routes
    allowed (one fewer than the last plan without absent visits). BestR/BestL: the last
    plan without absent visits. Returns the iterations done."""
    nv = len(vehicles)
    nc = len(pool)
    removed = np.empty(2 * nc + 1, dtype=np.int64)
    miss = np.empty(nc, dtype=np.int64)
    touched = np.empty(nv, dtype=np.int64)
    key = np.empty(2 * nc + 1, dtype=np.float64)
    for it in range(iters):
        if state[0] == 0:
            # Every visit placed: keep this plan, then empty the shortest route.
            shortest = -1
            used = 0
            for k in range(nv):
                v = vehicles[k]
                BestL[v] = L[v]
                for j in range(L[v]):
                    BestR[v, j] = R[v, j]
                if L[v] > 0:
                    used += 1
                    if shortest < 0 or L[v] < L[shortest]:
                        shortest = v
            if used <= 1:
                state[2] = 1
                return it
            for j in range(L[shortest]):
                x = R[shortest, j]
                pool[j] = x
                rt[x] = -1
            state[0] = L[shortest]
            state[1] += 1
            state[3] = used - 1
            L[shortest] = 0
            sisrcore.retime(
                shortest, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE,
                cap, SPAN,
            )  # fmt: skip
        counter[0] += 1
        stamp_it = counter[0]
        nt = 0
        npool = state[0]
        # -- ruin: strings from routes near a random absent visit
        used = 0
        routed = 0
        for k in range(nv):
            if L[vehicles[k]] > 0:
                used += 1
                routed += L[vehicles[k]]
        ls_max = sisrcore.LMAX
        if used and routed / used < ls_max:
            ls_max = routed / used
        ks = int(sisrcore.rand(rng) * (4.0 * sisrcore.CBAR / (1.0 + ls_max) - 1.0)) + 1
        seed = pool[int(sisrcore.rand(rng) * npool)]
        nr = 0
        done = 0
        bad = False
        for m in range(neigh.shape[1]):
            if done >= ks:
                break
            c = neigh[seed, m]
            v = rt[c]
            if v < 0 or stamp[v] == stamp_it:
                continue
            nt = sisrcore.back_up(v, stamp_it, nt, stamp, touched, R, L, BR, BL)
            lt_max = L[v] if L[v] < ls_max else int(ls_max)
            ln = int(sisrcore.rand(rng) * lt_max) + 1
            lo = ps[c] - int(sisrcore.rand(rng) * ln)
            if lo < 0:
                lo = 0
            if lo > L[v] - ln:
                lo = L[v] - ln
            w = 0
            for k in range(L[v]):
                x = R[v, k]
                if lo <= k < lo + ln:
                    removed[nr] = x
                    nr += 1
                    rt[x] = -1
                else:
                    R[v, w] = x
                    w += 1
            L[v] = w
            if w == 0:
                used -= 1
            if not sisrcore.retime(
                v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap, SPAN
            ):
                bad = True
            done += 1
        for k in range(npool):
            removed[nr] = pool[k]
            nr += 1
        # -- recreate: every removed and absent visit, in one of a few orders
        how = sisrcore.rand(rng)
        for k in range(nr):
            x = removed[k]
            if how < 0.4:
                key[k] = sisrcore.rand(rng)
            elif how < 0.7:
                key[k] = -q[x] - sisrcore.rand(rng)
            elif how < 0.9:
                key[k] = b[x] - a[x]
            else:
                key[k] = -C[S[0], x]
        order = np.argsort(key[:nr], kind="mergesort")
        nmiss = 0
        for oi in range(nr):
            x = removed[order[oi]]
            best = sisrcore.BIG
            bv = -1
            bp = -1
            if not bad:
                counter[1] += 1
                token = counter[1]
                for m in range(neigh.shape[1]):
                    v = rt[neigh[x, m]]
                    if v < 0 or mark[v] == token:
                        continue
                    mark[v] = token
                    if LD[v] + q[x] > cap[v] or not ALLOW[x, v]:
                        continue
                    n = L[v]
                    for p in range(n + 1):
                        if sisrcore.rand(rng) < sisrcore.BLINK:
                            continue
                        if p > 0:
                            prev = R[v, p - 1]
                            t = ES[v, p - 1] + svc[prev]
                        else:
                            prev = S[v]
                            t = OPEN[v]
                        nxt = R[v, p] if p < n else E[v]
                        add = C[prev, x] + C[x, nxt] - C[prev, nxt]
                        if add >= best:
                            continue
                        arr = t + T[prev, x]
                        if arr > b[x]:
                            continue
                        s = arr if arr > a[x] else a[x]
                        done_t = s + svc[x] + T[x, nxt]
                        if p < n:
                            if done_t > LS[v, p]:
                                continue
                        elif done_t > CLOSE[v]:
                            continue
                        if SPAN[v] < sisrcore.BIG:
                            end = sisrcore.end_with(v, p, x, R, L, ES, T, a, svc, S, E, OPEN, s)
                            if sisrcore.least_span(v, p, x, R, L, T, b, svc, S, E, end) > SPAN[v]:
                                continue
                        best = add
                        bv = v
                        bp = p
            if used < state[3]:
                # Fewer routes than allowed (a ruin emptied one): an idle vehicle may start.
                for k in range(nv):
                    v = vehicles[k]
                    if L[v] > 0 or q[x] > cap[v] or not ALLOW[x, v]:
                        continue
                    arr = OPEN[v] + T[S[v], x]
                    s = arr if arr > a[x] else a[x]
                    if arr > b[x] or s + svc[x] + T[x, E[v]] > CLOSE[v]:
                        continue
                    if svc[x] + T[S[v], x] + T[x, E[v]] > SPAN[v]:
                        continue
                    if C[S[v], x] + C[x, E[v]] < best:
                        best = C[S[v], x] + C[x, E[v]]
                        bv = v
                        bp = 0
                    break
            if bv < 0:
                miss[nmiss] = x
                nmiss += 1
                continue
            v = bv
            if L[v] == 0:
                used += 1
            if stamp[v] != stamp_it:
                nt = sisrcore.back_up(v, stamp_it, nt, stamp, touched, R, L, BR, BL)
            for k in range(L[v], bp, -1):
                R[v, k] = R[v, k - 1]
            R[v, bp] = x
            L[v] += 1
            sisrcore.retime(
                v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap, SPAN
            )
        before = 0
        for k in range(npool):
            before += absent[pool[k]]
        after = 0
        for k in range(nmiss):
            after += absent[miss[k]]
        if not bad and (nmiss < npool or after < before):
            for k in range(nmiss):
                pool[k] = miss[k]
            state[0] = nmiss
        else:
            for k in range(nt):
                v = touched[k]
                for j in range(L[v]):
                    rt[R[v, j]] = -1
            for k in range(nt):
                v = touched[k]
                L[v] = BL[v]
                for j in range(BL[v]):
                    R[v, j] = BR[v, j]
                sisrcore.retime(
                    v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE,
                    cap, SPAN,
                )  # fmt: skip
        for k in range(state[0]):
            absent[pool[k]] += 1
    return iters


_WARM: list[bool] = []
_LOCK = threading.Lock()


def warm() -> None:
    """Compile routing.sisr's search and this one (or load them from numba's cache), once."""
    with _LOCK:
        if _WARM or not sisr.AVAILABLE:
            return
        sisr.warm()
        import numba  # see sisr.AVAILABLE: importing numba takes a second

        globals()["_search"] = numba.njit(cache=True, nogil=True)(_search)
        n = 4
        z = np.ones((n, n), dtype=np.int64)
        inst = Instance(
            kind=[START, VISIT, VISIT, VISIT], ref=list(range(n)),
            service=np.zeros(n, dtype=np.int64), windows=[[(0, 10)]] * n,
            demand=np.zeros(n, dtype=np.int64), time={"m": z}, dist={"m": z},
            vehicle_mode=["m"] * 2, starts=[0, 0], ends=[0, 0], vehicle_window=[(0, 10)] * 2,
            max_span=[None] * 2, capacity=[3, 3], breaks=[[], []], penalty=[None] * n,
            finalize_times=False,
        )  # fmt: skip
        minimise(sisr.Sisr(inst), {0: [1, 2], 1: [3]}, [0, 1], time.monotonic() + 60, 0, 20)
        path, digest = _marker()
        _WARM.append(True)
        with contextlib.suppress(OSError):
            path.write_text(digest)


def _marker() -> tuple[Path, str]:
    """Where warm() notes the sources it compiled, and their digest now (this search inlines
    routing.sisrcore's functions, so both files count)."""
    here = Path(__file__)
    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    digest = hashlib.sha256(here.read_bytes() + Path(sisrcore.__file__).read_bytes()).hexdigest()
    return here.parent / "__pycache__" / f"{here.stem}.warm-{version}", digest


def ready() -> bool:
    """Whether the compiled fleet minimisation can run without compiling now (loading it from
    numba's cache when make install built it)."""
    if not _WARM and sisr.ready():
        path, digest = _marker()
        try:
            fresh = path.read_text() == digest
        except OSError:
            fresh = False
        if fresh:
            warm()
    return bool(_WARM)


def minimise(
    kernel: sisr.Sisr,
    routes: dict[int, list[int]],
    vehicles: list[int],
    deadline: float,
    seed: int = 0,
    max_iters: int | None = None,
    plain: bool = False,
) -> dict[int, list[int]]:
    """The plan of fewest routes found by the deadline that serves the visits of `routes`
    with `vehicles` (their routes as given when no route could be emptied). `plain`: the
    Python source even when compiled (tests)."""
    kernel.load(routes, vehicles)
    visits = [x for v in vehicles for x in routes.get(v, [])]
    kernel.emptied = 0
    if not visits:
        return {v: list(routes.get(v, [])) for v in vehicles}
    k = kernel
    vs = np.asarray(vehicles, dtype=np.int64)
    pool = np.zeros(len(visits), dtype=np.int64)
    state = np.zeros(4, dtype=np.int64)
    absent = np.zeros(k.inst.n, dtype=np.int64)
    rng = np.array([seed % (sisrcore.MOD - 1) + 1], dtype=np.int64)
    step = getattr(_search, "py_func", _search) if plain else _search
    done = 0
    while time.monotonic() < deadline and not state[2] and (max_iters is None or done < max_iters):
        chunk = CHUNK if max_iters is None else min(CHUNK, max_iters - done)
        done += step(
            k.C, k.T, k.a, k.b, k.svc, k.q, k.cap, k.S, k.E, k.OPEN, k.CLOSE, k.SPAN, k.ALLOW,
            k.neigh, vs, k.R, k.L, k.rt, k.ps, k.ES, k.LS, k.LD, k.RC, k.BR, k.BL,
            k.stamp, k.mark, k.BestR, k.BestL, rng, chunk, k.counter, pool, state, absent,
        )  # fmt: skip
    k.iterations = done
    out = {int(v): k.BestR[v, : k.BestL[v]].tolist() for v in vehicles}
    if not k.keeps_rules(out, visits):
        return {v: list(routes.get(v, [])) for v in vehicles}
    kernel.emptied = sum(1 for v in vehicles if routes.get(v)) - sum(1 for r in out.values() if r)
    return out
