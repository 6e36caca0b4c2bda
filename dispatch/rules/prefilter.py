"""Set-based prefilters for the batch: per rule, SQL that finds every order the rule *may* flag.

The Python rule function stays the one definition of a rule: it decides, and it writes the
evidence. A prefilter is a conservative superset of what the function flags, computed over a
whole period in PostgreSQL (window functions over orders sorted by person and by client, a
running sum per client-month, groupings of events and photos: nothing compares every order
with every other), so that the batch runs the Python rules only on the few orders that may hold.

Superset, not equality: every comparison with a threshold keeps a margin (floating point, the
sphere against the WGS84 ellipsoid, the router's rounding up to whole seconds), thresholds that
only narrow a rule (OVERLAP minutes, DUPLICATE share) are left out, and the near-duplicate photo
search is done exactly by ``near_photo_pairs`` (numpy) on hashes the engine streams out. An order
the prefilters miss would be an order the batch verifies and the incremental path flags; the
tests in ``tests/rules/test_batch.py`` put each rule at its threshold edge to catch that.

Per-order prefilters are boolean SQL expressions over one row per order of the period with
these aliases: ``o`` work_orders, ``c`` clients, ``s`` service_types, ``v`` visits (left join),
``ci`` / ``co`` the check-in / check-out visit_events of the order's (visit, caregiver) (left
joins), ``pi`` / ``po`` their photos (left joins), and ``o_day`` the order's local date.
The zone's name comes as ``:tz`` (local days and months), thresholds as ``:t_<CODE>``;
``:t_GPS_POOR`` is always bound (GEOFENCE caps the credited accuracy with it). Cross-order
prefilters are whole statements over the orders that start in [``:ulo``, ``:uhi``) (the period
widened by two days; whole local months for OVER_ENTITLEMENT: ``:mlo``, ``:mhi``), each
selecting the ``id`` of every order that may be flagged.
"""

from __future__ import annotations

import numpy as np

from routing import EARTH_RADIUS_M

# The providers' zone (``dispatch.config.zone``), bound as a parameter: ``:tz``.
_TZ = ":tz"
# Relative margin on distances and travel times; absolute margin on minutes and hours.
_REL = 0.98
_EPS = 1e-6


def _sphere_m(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """Great-circle metres on the router's sphere (``routing.great_circle_m``, haversine form)."""
    return (
        f"(2 * {EARTH_RADIUS_M!r} * asin(least(1.0, sqrt("
        f"power(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * cos(radians({lat2}))"
        f" * power(sin(radians({lon2} - {lon1}) / 2), 2)))))"
    )


def _geofence(ev: str) -> str:
    # Python: sphere < limit × 0.99 is settled as inside; the ellipsoid decides the rest.
    accuracy = f"least(greatest(coalesce({ev}.accuracy_m, 0), 0), :t_GPS_POOR)"
    dist = _sphere_m(f"{ev}.lat", f"{ev}.lon", "c.lat", "c.lon")
    return f"({ev}.id IS NOT NULL AND {dist} >= {_REL} * 0.99 * (:t_{{code}} + {accuracy}))"


_PLANNED = "(CASE WHEN v.id IS NOT NULL THEN v.duration_min ELSE s.default_duration_min END)"
_ACTUAL_MIN = "(extract(epoch FROM o.end_at - o.start_at) / 60.0)"


def _each_event(expr: str) -> str:
    return f"(({expr.format(e='ci')}) OR ({expr.format(e='co')}))"


PER_ORDER: dict[str, str] = {
    "MISSING_CHECKIN": "(o.source = 'app' AND ci.id IS NULL)",
    "MISSING_CHECKOUT": "(o.source = 'app' AND co.id IS NULL)",
    "GEOFENCE_IN": _geofence("ci").replace("{code}", "GEOFENCE_IN"),
    "GEOFENCE_OUT": _geofence("co").replace("{code}", "GEOFENCE_OUT"),
    "GPS_POOR": _each_event(f"{{e}}.accuracy_m > :t_GPS_POOR - {_EPS}"),
    "SHORT_VISIT": (
        f"(coalesce({_PLANNED}, 0) <> 0 AND {_ACTUAL_MIN} < {_PLANNED} * :t_SHORT_VISIT + {_EPS})"
    ),
    "LONG_VISIT": (
        f"(coalesce({_PLANNED}, 0) <> 0 AND {_ACTUAL_MIN} > {_PLANNED} * :t_LONG_VISIT - {_EPS})"
    ),
    "OFF_SCHEDULE": (
        "(v.id IS NOT NULL AND greatest(extract(epoch FROM v.window_start_at - o.start_at),"
        f" extract(epoch FROM o.start_at - v.window_end_at)) / 60.0 > :t_OFF_SCHEDULE - {_EPS})"
    ),
    "PHOTO_MISSING": (
        "(o.source = 'app' AND s.photo_required AND ci.photo_id IS NULL AND co.photo_id IS NULL)"
    ),
    "PHOTO_STALE": (
        "((pi.exif_taken_at IS NOT NULL AND abs(extract(epoch FROM pi.exif_taken_at - "
        f"ci.device_time_at)) / 60.0 > :t_PHOTO_STALE - {_EPS}) OR (po.exif_taken_at IS NOT NULL"
        " AND abs(extract(epoch FROM po.exif_taken_at - co.device_time_at)) / 60.0 > "
        f":t_PHOTO_STALE - {_EPS}))"
    ),
    # Lacks the skill, or holds a certificate for it that expired before the day (Python then
    # asks whether every such certificate did).
    "SKILL_MISMATCH": (
        "(coalesce(nullif(v.required_skill, ''), nullif(s.required_skill, '')) IS NOT NULL AND ("
        " NOT EXISTS (SELECT 1 FROM caregiver_skills k WHERE k.caregiver_id = o.caregiver_id"
        "   AND k.skill = coalesce(nullif(v.required_skill, ''), nullif(s.required_skill, '')))"
        " OR EXISTS (SELECT 1 FROM certificates x WHERE x.caregiver_id = o.caregiver_id"
        "   AND x.skill = coalesce(nullif(v.required_skill, ''), nullif(s.required_skill, ''))"
        "   AND x.expires_on < o_day)))"
    ),
    "CLIENT_ABSENT": (
        "EXISTS (SELECT 1 FROM client_absences a WHERE a.client_id = o.client_id"
        " AND o.start_at < a.end_at AND a.start_at < o.end_at)"
    ),
    "UNSCHEDULED": (
        "(v.id IS NULL AND NOT EXISTS (SELECT 1 FROM visits w WHERE w.client_id = o.client_id"
        " AND w.date = o_day AND w.service_type_id = o.service_type_id"
        " AND w.status <> 'cancelled'))"
    ),
    "LATE_SYNC": _each_event(
        f"extract(epoch FROM {{e}}.received_at - {{e}}.device_time_at) / 3600.0"
        f" > :t_LATE_SYNC - {_EPS}"
    ),
    "CALLBACK_DENIED": (
        "EXISTS (SELECT 1 FROM callbacks cb WHERE cb.work_order_id = o.id"
        " AND cb.status = 'answered' AND cb.reached AND cb.took_place = 'no')"
    ),
    # The device's own mock flag; repeated coordinates are a cross-order prefilter below.
    "MOCK_LOCATION": "(coalesce(ci.mock_location, false) OR coalesce(co.mock_location, false))",
}

PER_ORDER_FROM = f"""
FROM work_orders o
JOIN clients c ON c.id = o.client_id
JOIN service_types s ON s.id = o.service_type_id
LEFT JOIN visits v ON v.id = o.visit_id
LEFT JOIN visit_events ci
  ON ci.visit_id = o.visit_id AND ci.caregiver_id = o.caregiver_id AND ci.kind = 'check_in'
LEFT JOIN visit_events co
  ON co.visit_id = o.visit_id AND co.caregiver_id = o.caregiver_id AND co.kind = 'check_out'
LEFT JOIN photos pi ON pi.id = ci.photo_id
LEFT JOIN photos po ON po.id = co.photo_id
CROSS JOIN LATERAL (SELECT (o.start_at AT TIME ZONE {_TZ})::date AS o_day) d
"""

PERSON = "coalesce(g.person_hash, 'cg:' || g.id::text)"
# Caregivers with a small number per person (the same human across providers), so that the
# windows partition and sort by an integer.
_PEOPLE = f"""people AS (
  SELECT g.id AS caregiver_id, g.travel_mode, dense_rank() OVER (ORDER BY {PERSON}) AS person
  FROM caregivers g
)"""  # noqa: S608  (constants only)

# Orders of the widened period with their person, for the window prefilters.
_UNIVERSE = """
SELECT o.id, o.start_at, o.end_at, o.visit_id, o.caregiver_id, o.client_id,
       o.service_type_id, o.status, o.billable_min, g.person, g.travel_mode, c.lat, c.lon,
       greatest(coalesce(v.caregivers_needed, 1), s.caregivers_needed) >= 2 AS two
FROM work_orders o
JOIN people g ON g.caregiver_id = o.caregiver_id
JOIN clients c ON c.id = o.client_id
JOIN service_types s ON s.id = o.service_type_id
LEFT JOIN visits v ON v.id = o.visit_id
WHERE o.start_at >= :ulo AND o.start_at < :uhi
"""


def _double_staffed(a: str, b: str) -> str:
    """Both directions of ``data.double_staffed`` hold (Python exempts a pair only then)."""
    return (
        f"coalesce({a}visit_id = {b}visit_id AND {a}caregiver_id <> {b}caregiver_id"
        f" AND {a}two AND {b}two, false)"
    )


_OVERLAPS = """
  (p_end > start_at AND NOT {ds_prev}) OR (n_start < end_at AND NOT {ds_next})
  OR far_end > start_at OR far_start < end_at"""


def _overlapping(partition: str) -> str:
    """Orders overlapping another of the partition, double-staffed neighbours exempt.

    Sorted by (start, end, id): an order overlaps an earlier one iff its start is before the
    previous order's end or before the largest end of the ones before that; it overlaps a later
    one iff its end is after the next start or the one after. Only adjacent pairs are checked
    for the exemption, which keeps the set a superset.

    Partitioned by person, the same pass finds IMPOSSIBLE_TRAVEL's pairs: consecutive orders
    at two homes whose gap (0..24 h) is shorter than the router's time, with a margin for its
    rounding up to whole seconds and the sphere it measures on. ``:on_<CODE>`` says which of
    the two rules are enabled.
    """
    travel = "false"
    if partition == "person":
        speed = (
            "(CASE travel_mode WHEN 'walk' THEN :speed_walk WHEN 'car' THEN :speed_car"
            " ELSE :speed_ebike END)"
        )
        travel = (
            ":on_IMPOSSIBLE_TRAVEL AND p_id IS NOT NULL AND (p_lat <> lat OR p_lon <> lon)"
            " AND extract(epoch FROM start_at - p_end) BETWEEN -1 AND 86401"
            " AND extract(epoch FROM start_at - p_end) < "
            f"{_sphere_m('p_lat', 'p_lon', 'lat', 'lon')} * :detour / {speed}"
            f" * :t_IMPOSSIBLE_TRAVEL / {_REL} + 2"
        )
    overlaps = _OVERLAPS.format(
        ds_prev=_double_staffed("", "p_"), ds_next=_double_staffed("", "n_")
    )
    return f"""
WITH {_PEOPLE}, u AS ({_UNIVERSE}),
w AS (
  SELECT id, start_at, end_at, visit_id, caregiver_id, two, lat, lon, travel_mode,
         lag(id) OVER p AS p_id, lag(end_at) OVER p AS p_end,
         lag(lat) OVER p AS p_lat, lag(lon) OVER p AS p_lon, lag(visit_id) OVER p AS p_visit_id,
         lag(caregiver_id) OVER p AS p_caregiver_id, lag(two) OVER p AS p_two,
         lead(start_at) OVER p AS n_start, lead(visit_id) OVER p AS n_visit_id,
         lead(caregiver_id) OVER p AS n_caregiver_id, lead(two) OVER p AS n_two,
         max(end_at) OVER (p ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING) AS far_end,
         lead(start_at, 2) OVER p AS far_start
  FROM u WINDOW p AS (PARTITION BY {partition} ORDER BY start_at, end_at, id)
),
z AS (SELECT id, p_id, :on_OVERLAP AND ({overlaps}) AS overlap, {travel} AS travel FROM w),
hit AS MATERIALIZED (
  SELECT id, CASE WHEN travel THEN p_id END AS p_id FROM z WHERE overlap OR travel
)
SELECT id FROM hit UNION ALL SELECT p_id FROM hit WHERE p_id IS NOT NULL
"""  # noqa: S608  (constants only; values are bound parameters)


_DAILY_HOURS = f"""
WITH {_PEOPLE}, u AS ({_UNIVERSE})
SELECT id FROM (
  SELECT id, status, sum(CASE WHEN status = 'rejected' THEN 0 ELSE billable_min END) OVER (
    PARTITION BY person, (start_at AT TIME ZONE {_TZ})::date
    ORDER BY start_at, end_at, id ROWS UNBOUNDED PRECEDING) AS total
  FROM u
) t
WHERE status <> 'rejected' AND total > :t_DAILY_HOURS * 60 - {_EPS}
"""  # noqa: S608  (constants only; values are bound parameters)

_OVER_ENTITLEMENT = f"""
SELECT id FROM (
  SELECT o.id, o.status, c.monthly_entitlement_min AS entitled,
         sum(CASE WHEN o.status = 'rejected' THEN 0 ELSE o.billable_min END) OVER (
           PARTITION BY o.client_id, date_trunc('month', o.start_at AT TIME ZONE {_TZ})
           ORDER BY o.start_at, o.id ROWS UNBOUNDED PRECEDING) AS total
  FROM work_orders o JOIN clients c ON c.id = o.client_id
  WHERE c.monthly_entitlement_min IS NOT NULL AND o.start_at >= :mlo AND o.start_at < :mhi
) t
WHERE status <> 'rejected' AND total > entitled
"""  # noqa: S608  (constants only; values are bound parameters)

# The same coordinates (rounded to 1e-6°) at two clients of one person. Python's round(x, 6)
# is k when x·1e6 lies in [k − ½, k + ½]; the float product x·1e6 is off by a few 1e-9 at most,
# so floor(x·1e6 + ½) is k or a neighbour whose fraction is within 0.01 of the edge, and such
# an event is keyed both ways: two positions Python rounds alike always share a key. A key of
# one person with two clients makes its orders candidates (Python then rounds, within 24 h).
_MOCK_REPEATED = f"""
WITH {_PEOPLE},
e AS (
  SELECT o.id, o.client_id, g.person,
         ev.lat * 1000000 + 0.5 AS y, ev.lon * 1000000 + 0.5 AS x
  FROM work_orders o
  JOIN people g ON g.caregiver_id = o.caregiver_id
  JOIN visit_events ev ON ev.visit_id = o.visit_id AND ev.caregiver_id = o.caregiver_id
  WHERE o.start_at >= :ulo AND o.start_at < :uhi
),
f AS MATERIALIZED (
  SELECT id, client_id, person, floor(y)::bigint AS cy, floor(x)::bigint AS cx,
         CASE WHEN y - floor(y) < 0.01 THEN -1 WHEN y - floor(y) > 0.99 THEN 1 ELSE 0 END AS dy,
         CASE WHEN x - floor(x) < 0.01 THEN -1 WHEN x - floor(x) > 0.99 THEN 1 ELSE 0 END AS dx
  FROM e
),
cells AS (
  SELECT id, client_id, person, cy, cx FROM f
  UNION ALL SELECT id, client_id, person, cy + dy, cx FROM f WHERE dy <> 0
  UNION ALL SELECT id, client_id, person, cy, cx + dx FROM f WHERE dx <> 0
  UNION ALL SELECT id, client_id, person, cy + dy, cx + dx FROM f WHERE dy <> 0 AND dx <> 0
),
hot AS (
  SELECT person, cy, cx FROM cells GROUP BY person, cy, cx HAVING min(client_id) <> max(client_id)
)
SELECT cells.id FROM cells JOIN hot USING (person, cy, cx)
"""  # noqa: S608  (constants only; values are bound parameters)

# The same stored photo or the same perceptual hash on two visits (any time, any order).
_PHOTO_SAME = """
WITH e AS MATERIALIZED (
  SELECT o.id, o.visit_id, p.id AS photo_id,
         CASE WHEN p.phash ~ '^[0-9a-fA-F]{16}$' THEN ('x' || p.phash)::bit(64)::bigint END AS h
  FROM work_orders o
  JOIN visit_events ev ON ev.visit_id = o.visit_id AND ev.caregiver_id = o.caregiver_id
  JOIN photos p ON p.id = ev.photo_id
),
same_hash AS (
  SELECT h FROM e WHERE h IS NOT NULL GROUP BY h HAVING min(visit_id) <> max(visit_id)
),
same_photo AS (
  SELECT photo_id FROM e WHERE h IS NULL GROUP BY photo_id HAVING min(visit_id) <> max(visit_id)
)
SELECT e.id FROM e JOIN same_hash USING (h)
UNION ALL SELECT e.id FROM e JOIN same_photo USING (photo_id)
UNION ALL
SELECT o.id FROM work_orders o
JOIN visit_events ev ON ev.visit_id = o.visit_id AND ev.caregiver_id = o.caregiver_id
JOIN photos p ON p.id = ev.photo_id
WHERE p.phash IS NOT NULL AND p.phash !~ '^[0-9a-fA-F]{16}$'
"""

# Photo-bearing orders around the period with 64-bit perceptual hashes, for near_photo_pairs:
# (order id, visit id, person key, client id, start in epoch seconds, hash as a signed 64-bit
# integer).
PHOTO_HASHES = f"""
SELECT o.id::bigint, o.visit_id::bigint, hashtext({PERSON})::bigint, o.client_id::bigint,
       extract(epoch FROM o.start_at)::bigint, ('x' || p.phash)::bit(64)::bigint
FROM work_orders o
JOIN caregivers g ON g.id = o.caregiver_id
JOIN visit_events ev ON ev.visit_id = o.visit_id AND ev.caregiver_id = o.caregiver_id
JOIN photos p ON p.id = ev.photo_id
WHERE p.phash ~ '^[0-9a-fA-F]{{16}}$'
  AND o.start_at >= :ulo - interval '7 days' AND o.start_at < :uhi + interval '7 days'
"""  # noqa: S608  (constants only; values are bound parameters)

# Statements, each with the rules it serves (one pass may serve two; ``:on_<CODE>`` tells it
# which of them are enabled). The costliest first: two connections share them.
CROSS: list[tuple[tuple[str, ...], str]] = [
    (("MOCK_LOCATION",), _MOCK_REPEATED),
    (("OVERLAP", "IMPOSSIBLE_TRAVEL"), _overlapping("person")),
    (("PHOTO_REUSED",), _PHOTO_SAME),
    (("DUPLICATE",), _overlapping("client_id, service_type_id").replace(":on_OVERLAP", "true")),
    (("DAILY_HOURS",), _DAILY_HOURS),
    (("OVER_ENTITLEMENT",), _OVER_ENTITLEMENT),
]


def covered() -> set[str]:
    """The rules some prefilter serves."""
    return set(PER_ORDER) | {code for codes, _ in CROSS for code in codes}


def near_photo_pairs(
    order_id: np.ndarray,
    visit_id: np.ndarray,
    person: np.ndarray,
    client: np.ndarray,
    start_s: np.ndarray,
    phash: np.ndarray,
    max_bits: float,
    horizon_s: int,
) -> np.ndarray:
    """Orders with a photo whose perceptual hash is within ``max_bits`` of another order's photo
    of the same person or client starting within ``horizon_s`` (the PHOTO_REUSED search);
    photos of one visit (an order's two events, the legs of a double-staffed visit) are no reuse.

    Sorted by (key, start), each photo is compared with the next ones of the same key while
    they start within the horizon: the work is the photos times their neighbours in a week.
    """
    hits: list[np.ndarray] = []
    h = phash.view(np.uint64)
    for key in (person, client):
        order = np.lexsort((start_s, key))
        k, t, x = key[order], start_s[order], h[order]
        ids, visits = order_id[order], visit_id[order]
        active = np.arange(len(k) - 1)
        step = 1
        while active.size:
            j = active + step
            keep = j < len(k)
            active, j = active[keep], j[keep]
            keep = (k[j] == k[active]) & (t[j] - t[active] <= horizon_s)
            active, j = active[keep], j[keep]
            close = (np.bitwise_count(x[active] ^ x[j]) <= max_bits) & (visits[active] != visits[j])
            hits.append(ids[active[close]])
            hits.append(ids[j[close]])
            step += 1
    return np.unique(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)
