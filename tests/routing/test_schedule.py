"""Route timing: a route that waits inside may start later to keep within the working time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.schedule import Item, Rules, Timing, bounds, check, may_fit, schedule


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


# -- the insertion screen (bounds / may_fit) never refuses a place the full check accepts ------

_window = st.tuples(st.integers(0, 400), st.integers(0, 300)).map(lambda w: (w[0], w[0] + w[1]))


@st.composite
def _stop(draw, located=True):
    loc = draw(st.integers(0, 20)) if located else None
    ws = sorted(draw(st.lists(_window, min_size=1, max_size=2)))
    return Item(loc, draw(st.integers(0, 60)), tuple(ws))


@given(
    stops=st.lists(st.one_of(_stop(), _stop(), _stop(located=False)), max_size=6),
    new=_stop(),
    shift_end=st.integers(300, 900),
    span=st.one_of(st.none(), st.integers(100, 900)),
    earliest=st.one_of(st.none(), st.integers(0, 200)),
)
@settings(max_examples=400, deadline=None)
def test_the_screen_never_refuses_a_place_the_check_accepts(stops, new, shift_end, span, earliest):
    def line(a, b):
        return 10 * abs(a - b)

    rules = Rules(0, 0, (0, shift_end), line, span, None, None, earliest)
    screen = bounds(stops, rules)
    for pos in range(len(stops) + 1):
        fits = isinstance(check([*stops[:pos], new, *stops[pos:]], rules), Timing)
        if fits:
            assert may_fit(stops, screen, pos, new, rules), pos


def test_the_screen_refuses_what_comes_too_late_for_the_next_stop():
    # A at 1 (start by 100, 10 s), B at 5 (start by 200). X at 20 (window from 150, 10 s),
    # inserted between: leaves X at 160 and reaches B at 160 + 150 = 310 > 200.
    a = Item(1, 10, ((0, 100),))
    b = Item(5, 10, ((0, 200),))
    x = Item(20, 10, ((150, 400),))
    rules = Rules(0, 0, (0, 1000), lambda p, q: 10 * abs(p - q))
    screen = bounds([a, b], rules)
    assert not may_fit([a, b], screen, 1, x, rules)
    assert may_fit([a, b], screen, 2, x, rules)  # after B: 20 at 160, home at 370
