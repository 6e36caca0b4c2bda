from tests.factories import Builder


def test_clean_order_is_verified(b: Builder) -> None:
    o = b.order()
    assert b.codes(o) == set()
    assert b.status(o) == "verified"
