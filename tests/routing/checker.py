"""An independent checker of routing solutions: it shares no code with routing/ but the types."""

from __future__ import annotations

from collections import Counter

from routing import Problem, Solution


def violations(problem: Problem, solution: Solution, travel, overtime_cap_s: int = 0) -> list[str]:
    out: list[str] = []
    visits = {v.id: v for v in problem.visits}
    cgs = {c.id: c for c in problem.caregivers}
    kitchens = {k.id: k for k in problem.kitchens}
    pins = {p.visit_id: p for p in problem.pins}
    routed = Counter(s.visit_id for r in solution.routes for s in r.stops if s.kind == "visit")
    dropped = Counter(u.visit_id for u in solution.unassigned)
    for vid in visits:
        if routed[vid] + dropped[vid] != 1:
            out.append(f"visit {vid}: routed {routed[vid]}x, unassigned {dropped[vid]}x")
    start_of = {}
    owner = {}
    for r in solution.routes:
        c = cgs[r.caregiver_id]
        if not r.stops:
            continue

        def tt(a, b, mode=c.travel_mode):
            return int(travel.matrix([a], [b], mode).seconds[0, 0])

        here, t = c.start, r.depart_s
        if r.depart_s < c.shift_start_s:
            out.append(f"cg {c.id} departs {r.depart_s} before shift {c.shift_start_s}")
        pending_break = 0
        load = 0
        picked: dict[int, int] = {}
        breaks = [s for s in r.stops if s.kind == "break"]
        if len(breaks) != len(c.breaks):
            out.append(f"cg {c.id}: {len(breaks)} breaks, expected {len(c.breaks)}")
        for b in breaks:
            if not any(x.earliest_start_s <= b.start_s <= x.latest_start_s for x in c.breaks):
                out.append(f"cg {c.id}: break at {b.start_s} outside its window")
        for s in r.stops:
            if s.kind == "break":
                pending_break += s.end_s - s.start_s
                if s.start_s < t:
                    out.append(f"cg {c.id}: break at {s.start_s} overlaps the previous stop")
                continue
            if s.kind == "pickup":
                v = visits[s.visit_id]
                loc = kitchens[v.kitchen_id].location
                if s.start_s < kitchens[v.kitchen_id].ready_s:
                    out.append(f"pickup for {v.id} before the kitchen is ready")
                load += v.meal_boxes
                picked[v.id] = s.end_s
                if load > c.box_capacity:
                    out.append(f"cg {c.id}: {load} boxes > capacity {c.box_capacity}")
            else:
                v = visits[s.visit_id]
                loc = v.location
                start_of[v.id] = s.start_s
                owner[v.id] = c.id
                pin = pins.get(v.id)
                if pin is not None and pin.start_s is not None:
                    if s.start_s != pin.start_s:
                        out.append(f"visit {v.id} pinned at {pin.start_s} starts {s.start_s}")
                elif not any(w.start_s <= s.start_s <= w.end_s for w in v.windows):
                    out.append(f"visit {v.id} starts {s.start_s} outside its windows")
                if pin is not None and pin.caregiver_id is not None and pin.caregiver_id != c.id:
                    out.append(f"visit {v.id} pinned to {pin.caregiver_id} done by {c.id}")
                if not v.required_skills <= c.skills:
                    out.append(f"visit {v.id} needs {v.required_skills}, cg {c.id} lacks them")
                if v.required_gender is not None and c.gender != v.required_gender:
                    out.append(f"visit {v.id} needs gender {v.required_gender}")
                if v.allowed_caregivers is not None and c.id not in v.allowed_caregivers:
                    out.append(f"visit {v.id} not allowed to cg {c.id}")
                if c.id in v.forbidden_caregivers:
                    out.append(f"visit {v.id} refused cg {c.id}")
                if s.end_s - s.start_s != v.duration_s:
                    out.append(f"visit {v.id} lasts {s.end_s - s.start_s} not {v.duration_s}")
                if v.meal_boxes:
                    if v.id not in picked:
                        out.append(f"meal {v.id} delivered before pickup")
                    else:
                        load -= v.meal_boxes
                        if v.max_ride_s is not None and s.start_s - picked[v.id] > v.max_ride_s:
                            out.append(f"meal {v.id} rode {s.start_s - picked[v.id]} s")
            need = t + tt(here, loc) + pending_break
            if s.start_s < need or s.start_s < s.arrival_s:
                out.append(f"cg {c.id}: stop {s.visit_id} starts {s.start_s}, earliest {need}")
            if s.travel_s != tt(here, loc):
                out.append(f"cg {c.id}: stop {s.visit_id} travel {s.travel_s} != {tt(here, loc)}")
            pending_break = 0
            t, here = s.end_s, loc
        ret = t + tt(here, c.end) + pending_break
        if r.return_s < ret:
            out.append(f"cg {c.id} returns {r.return_s} < {ret}")
        if r.return_s > c.shift_end_s:
            out.append(f"cg {c.id} returns {r.return_s} after shift end {c.shift_end_s}")
        limit = None if c.max_work_s is None else c.max_work_s + overtime_cap_s
        if limit is not None and r.return_s - r.depart_s > limit:
            out.append(f"cg {c.id} works {r.return_s - r.depart_s} > {limit}")
        if load != 0:
            out.append(f"cg {c.id} ends with {load} boxes")
    for g in problem.groups:
        done = [vid for vid in g.visit_ids if vid in start_of]
        if done and len(done) != len(g.visit_ids):
            out.append(f"group {g.visit_ids} half done")
        if done and len({start_of[v] for v in done}) != 1:
            out.append(f"group {g.visit_ids} starts differ")
        if done and len({owner[v] for v in done}) != len(done):
            out.append(f"group {g.visit_ids} shares a caregiver")
    for lp in problem.locked:
        r = next(r for r in solution.routes if r.caregiver_id == lp.caregiver_id)
        if r.visit_ids[: len(lp.visit_ids)] != lp.visit_ids:
            out.append(f"locked prefix of {lp.caregiver_id} broken: {r.visit_ids}")
    return out
