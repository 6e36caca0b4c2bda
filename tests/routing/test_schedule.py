"""Route timing: a route that waits inside may start later to keep within the working time."""

from __future__ import annotations

from routing.schedule import Item, schedule


def tt(a: int, b: int) -> int:
    return 0 if a == b else 100


def stops(first_window_end: int) -> list[Item]:
    # A (loc 1): window [100, first_window_end], 100 s. B (loc 2): window [3000, 3100], 100 s.
    return [Item(1, 100, ((100, first_window_end),), "A"), Item(2, 100, ((3000, 3100),), "B")]


def test_earliest_times_when_the_span_fits():
    # Leave at 0, A 100-200, reach B at 300, wait to 3000, B 3000-3100, home 3200: span 3200.
    t = schedule(stops(5000), 0, 0, (0, 10_000), tt, max_span=4000)
    assert (t.depart, t.starts, t.ret) == (0, [100, 3000], 3200)


def test_a_later_start_absorbs_the_wait_to_keep_the_span():
    # Span 3200 > 1500: leave 1,700 s later (the 2,700 s wait at B absorbs it); A starts at
    # 1800 (window ends 5000), B still at 3000, home 3200: span 3200 - 1700 = 1500.
    t = schedule(stops(5000), 0, 0, (0, 10_000), tt, max_span=1500)
    assert t is not None
    assert (t.depart, t.starts, t.ret) == (1700, [1800, 3000], 3200)
    assert t.arrivals == [1800, 2000]  # B: A ends 1900, 100 s of travel


def test_no_later_start_when_a_window_or_the_wait_forbids_it():
    # A's window ends at 1000, so A cannot move from 100 to 1800.
    assert schedule(stops(1000), 0, 0, (0, 10_000), tt, max_span=1500) is None
    # Span 400 needs 2,800 s absorbed; only 2,700 s of waiting exist.
    assert schedule(stops(5000), 0, 0, (0, 10_000), tt, max_span=400) is None
