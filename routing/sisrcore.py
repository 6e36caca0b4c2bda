"""The ruin-and-recreate steps of routing.sisr over arrays, the functions numba compiles.

Each route keeps every visit's earliest and latest start (Savelsbergh), so an insertion's time
feasibility and its cost change are known in O(1), and a route is re-timed in O(length) only
when it changes; the routes an iteration touches are copied first and put back when it is
rejected. `routing.sisr.warm` compiles the functions of COMPILED in place (numba caches them
per source file: this one); until then they run as plain Python. routing.fleet compiles
`rand`, `retime`, `least_span`, `end_with` and `back_up` into its own search.
"""

from __future__ import annotations

import math

import numpy as np

# SISR's average removal (c-bar) and longest string; blinks: the share of places skipped.
CBAR, LMAX, BLINK = 10.0, 10.0, 0.01
# Split strings (a few visits in the middle of the string stay) in this share of removals.
SPLIT = 0.5
MOD = 2147483647  # Park-Miller generator: the same stream compiled or not
BIG = 1 << 62
# The functions warm() compiles, callees first: callers see them compiled.
COMPILED = ("rand", "least_span", "end_with", "retime", "back_up", "iterate")


def rand(rng):
    rng[0] = rng[0] * 48271 % MOD
    return rng[0] / MOD


def retime(v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap, SPAN):
    """Positions, earliest and latest starts, load and cost of route v; 1 if it keeps its
    windows, shift end, capacity and maximum working time, else 0."""
    n = L[v]
    t = OPEN[v]
    here = S[v]
    load = 0
    cost = 0
    ok = 1
    for k in range(n):
        x = R[v, k]
        rt[x] = v
        ps[x] = k
        arr = t + T[here, x]
        s = arr if arr > a[x] else a[x]
        if s > b[x]:
            ok = 0
        ES[v, k] = s
        t = s + svc[x]
        cost += C[here, x]
        load += q[x]
        here = x
    bound = CLOSE[v]
    nxt = E[v]
    for k in range(n - 1, -1, -1):
        x = R[v, k]
        bound = bound - T[x, nxt] - svc[x]
        if bound > b[x]:
            bound = b[x]
        LS[v, k] = bound
        nxt = x
    LD[v] = load
    RC[v] = cost + C[here, E[v]] if n > 0 else 0
    if n > 0:
        end = t + T[here, E[v]]
        late = end > CLOSE[v] or load > cap[v]
        if late or (SPAN[v] < BIG and least_span(v, -1, -1, R, L, T, b, svc, S, E, end) > SPAN[v]):
            ok = 0
    return ok


def least_span(v, p, x, R, L, T, b, svc, S, E, end):
    """The least working time of route v (with x inserted at position p when p >= 0) that
    arrives home at `end`, its earliest: leaving as late as every window still allows."""
    n = L[v]
    m = n if p < 0 else n + 1
    t = end
    nxt = E[v]
    for j in range(m - 1, -1, -1):
        if p < 0 or j < p:
            y = R[v, j]
        elif j == p:
            y = x
        else:
            y = R[v, j - 1]
        t = t - T[y, nxt] - svc[y]
        if t > b[y]:
            t = b[y]
        nxt = y
    return end - (t - T[S[v], nxt])


def end_with(v, p, x, R, L, ES, T, a, svc, S, E, OPEN, s_x):
    """Earliest arrival home of route v with x inserted at position p, starting at s_x."""
    n = L[v]
    t = s_x + svc[x]
    here = x
    for k in range(p, n):
        y = R[v, k]
        arr = t + T[here, y]
        s = arr if arr > a[y] else a[y]
        if s == ES[v, k]:
            # From here on the route is timed as before.
            t = ES[v, n - 1] + svc[R[v, n - 1]]
            here = R[v, n - 1]
            return t + T[here, E[v]]
        t = s + svc[y]
        here = y
    return t + T[here, E[v]]


def back_up(v, stamp_it, nt, stamp, touched, R, L, BR, BL):
    """Route v is the nt-th touched by iteration stamp_it: copy it to BR/BL, to be put back
    if the iteration is rejected. Returns the routes touched now (nt + 1)."""
    stamp[v] = stamp_it
    touched[nt] = v
    BL[v] = L[v]
    for k in range(L[v]):
        BR[v, k] = R[v, k]
    return nt + 1


def iterate(
    C, T, a, b, svc, q, cap, S, E, OPEN, CLOSE, SPAN, ALLOW, NV, act, neigh, vehicles,
    customers, R, L, rt, ps, ES, LS, LD, RC, BR, BL, BRC, stamp, mark, BestR, BestL, costs,
    rng, iters, temp0, temp1, counter, pending, idle,
):  # fmt: skip
    """`iters` ruin-and-recreate iterations; temperature temp0 to temp1 over them.

    costs: [current, best]; counter: [iteration stamp, place stamp]. Visits in `pending` (not
    in any route) are inserted by the first iteration, without a ruin, which is then kept if
    they all found a place. SPAN: each vehicle's maximum working time (BIG: none); ALLOW[x, v]:
    whether v may serve x; NV: per visit, the vehicles whose home is nearest (their idle
    routes are tried for it when homes differ, `act`: the vehicles of this run); `idle`: every
    idle vehicle of the run is tried at every insertion. Returns iterations done.
    """
    nv = len(vehicles)
    nc = len(customers)
    removed = np.empty(nc, dtype=np.int64)
    touched = np.empty(nv, dtype=np.int64)
    key = np.empty(nc, dtype=np.float64)
    for it in range(iters):
        counter[0] += 1
        stamp_it = counter[0]
        nt = 0
        # -- ruin: strings from routes near a random routed visit
        ls_max = LMAX
        seed = -1
        if it == 0 and len(pending):
            nr = len(pending)
            removed[:nr] = pending
            ks = 0
        else:
            used = 0
            routed = 0
            for k in range(nv):
                if L[vehicles[k]] > 0:
                    used += 1
                    routed += L[vehicles[k]]
            if routed == 0:
                return it
            avg = routed / used
            if avg < LMAX:
                ls_max = avg
            ks = int(rand(rng) * (4.0 * CBAR / (1.0 + ls_max) - 1.0)) + 1
            nr = 0
            seed = customers[int(rand(rng) * nc)]
            while rt[seed] < 0:
                seed = customers[int(rand(rng) * nc)]
        done = 0
        bad = False
        for m in range(-1, neigh.shape[1]):
            if done >= ks:
                break
            c = seed if m < 0 else neigh[seed, m]
            v = rt[c]
            if v < 0 or stamp[v] == stamp_it:
                continue
            nt = back_up(v, stamp_it, nt, stamp, touched, R, L, BR, BL)
            BRC[v] = RC[v]
            lt_max = L[v] if L[v] < ls_max else int(ls_max)
            ln = int(rand(rng) * lt_max) + 1
            keep = 0
            if ln > 1 and rand(rng) < SPLIT:
                # Split string: `keep` visits in the middle of a longer string stay.
                keep = 1
                while ln + keep < L[v] and rand(rng) > 0.5:
                    keep += 1
                if ln + keep > L[v]:
                    keep = 0
            span = ln + keep
            lo = ps[c] - int(rand(rng) * span)
            if lo < 0:
                lo = 0
            if lo > L[v] - span:
                lo = L[v] - span
            mid = lo + int(rand(rng) * (ln - 1)) + 1 if keep else lo + span
            w = 0
            for k in range(L[v]):
                x = R[v, k]
                if lo <= k < lo + span and not (mid <= k < mid + keep):
                    removed[nr] = x
                    nr += 1
                    rt[x] = -1
                else:
                    R[v, w] = x
                    w += 1
            L[v] = w
            if not retime(
                v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap, SPAN
            ):
                bad = True  # travel times without the triangle inequality: a shorter route late
            done += 1
        # -- recreate: in one of a few orders, each at its cheapest place
        how = rand(rng)
        for k in range(nr):
            x = removed[k]
            if how < 0.35:
                key[k] = rand(rng)
            elif how < 0.6:
                key[k] = -q[x] - rand(rng)
            elif how < 0.8:
                key[k] = b[x] - a[x]
            elif how < 0.95:
                key[k] = -C[S[0], x]
            else:
                key[k] = C[S[0], x]
        order = np.argsort(key[:nr], kind="mergesort")  # stable: ties alike compiled or not
        ok = not bad
        for oi in range(nr):
            if not ok:
                break
            x = removed[order[oi]]
            best = BIG
            bv = -1
            bp = -1
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
                    if rand(rng) < BLINK:
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
                    if SPAN[v] < BIG:
                        end = end_with(v, p, x, R, L, ES, T, a, svc, S, E, OPEN, s)
                        if least_span(v, p, x, R, L, T, b, svc, S, E, end) > SPAN[v]:
                            continue
                    best = add
                    bv = v
                    bp = p
            # Idle vehicles: those living nearest x when homes differ; any when nothing fits,
            # or always with `idle`.
            for m in range(NV.shape[1] if bv >= 0 and not idle else nv + NV.shape[1]):
                v = NV[x, m] if m < NV.shape[1] else vehicles[m - NV.shape[1]]
                if v < 0 or not act[v] or L[v] > 0 or q[x] > cap[v] or not ALLOW[x, v]:
                    continue
                arr = OPEN[v] + T[S[v], x]
                s = arr if arr > a[x] else a[x]
                if arr > b[x] or s + svc[x] + T[x, E[v]] > CLOSE[v]:
                    continue
                if svc[x] + T[S[v], x] + T[x, E[v]] > SPAN[v]:
                    continue
                add = C[S[v], x] + C[x, E[v]]
                if add < best:
                    best = add
                    bv = v
                    bp = 0
            if bv < 0:
                ok = False
                break
            v = bv
            if stamp[v] != stamp_it:
                nt = back_up(v, stamp_it, nt, stamp, touched, R, L, BR, BL)
                BRC[v] = RC[v]
            for k in range(L[v], bp, -1):
                R[v, k] = R[v, k - 1]
            R[v, bp] = x
            L[v] += 1
            retime(
                v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap, SPAN
            )
        delta = 0
        for k in range(nt):
            v = touched[k]
            delta += RC[v] - BRC[v]
        frac = it / iters if iters > 1 else 0.0
        temp = temp0 * (temp1 / temp0) ** frac
        forced = it == 0 and len(pending) > 0
        if ok and (forced or delta < -temp * math.log(rand(rng))):
            costs[0] += delta
            if forced or costs[0] < costs[1]:
                costs[1] = costs[0]
                for k in range(nv):
                    v = vehicles[k]
                    BestL[v] = L[v]
                    for j in range(L[v]):
                        BestR[v, j] = R[v, j]
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
                retime(
                    v, R, L, rt, ps, ES, LS, LD, RC, C, T, a, b, svc, q, S, E, OPEN, CLOSE, cap,
                    SPAN,
                )  # fmt: skip
    return iters
