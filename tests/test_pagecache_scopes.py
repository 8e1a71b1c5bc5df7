"""Scoped data versions (issue 24): a write in one network leaves the kept pages of
another network, and of other members, alone — and a kept page still equals a fresh one
after every kind of write (the oracle: a second app on the same database without cache).

Two networks share one facility: A (the ``network`` fixture) and B. Pages of both, the
dashboard and three members' pages are kept; then each write is made and every page is
compared with the fresh render.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text, update

from learnnet import changes, sections
from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.pagecache import cache_of
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import Unavailability
from tests import factories
from tests.conftest import QueryCounter, csrf_token_from, login
from tests.rsvp_helpers import answer, token_for
from tests.test_pagecache import _same, second_app  # noqa: F401 - the fixture

# --- the rule, without an app ----------------------------------------------------------------


def test_a_row_belongs_to_its_network_its_session_or_its_facility():
    rule = changes.scopes_of_row
    assert rule("rsvp", {"id": 1, "session_id": 7, "contact_id": 3}) == {
        ("session", 7),
        ("contact", 3, False),  # the answer's network comes from its session
    }
    assert rule("blackout", {"id": 1, "network_id": 4}) == {("scope", "n:4")}
    assert rule("unavailability", {"id": 2, "facility_id": 9}) == {("facility", 9, True)}
    assert rule("personal_link", {"id": 2, "contact_id": 5}) == {("contact", 5, True)}
    assert rule("network", {"id": 4}) == {("scope", "n:4")}
    assert rule("contact", {"id": 5, "facility_id": 9}) == {
        ("contact", 5, False),
        ("facility", 9, True),
    }
    assert rule("rsvp_change", {"id": 1, "rsvp_id": 8}) == {("row", "rsvp", (("id", 8),))}
    # deleted people and places, and tables without a rule, touch everything
    for table, values in (
        ("contact", {"id": 5, "facility_id": 9}),
        ("facility", {"id": 9}),
        ("network", {"id": 4}),
    ):
        assert rule(table, values, deleted=True) == {("scope", "shared")}
    assert rule("user_account", {"id": 1}) == {("scope", "shared")}
    assert rule("something_new", {"id": 1, "title": "x"}) == {("scope", "shared")}
    assert rule("feed_stamp", {"owner_id": 1}) == set()


# --- two networks ------------------------------------------------------------------------------


@pytest.fixture
def two(app, facilitator, network) -> dict[str, Any]:
    """Network A with its two members; network B with one of them (Ukkepuk) and one of
    its own (De Bengeltjes); a session in each; a contact at each facility."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    other = factories.network(facilitators=[facilitator], name="Lerend netwerk Brugge")
    bengeltjes = factories.facility(name="De Bengeltjes", postcode="8000", city="Brugge")
    factories.member(other, ukkepuk)
    factories.member(other, bengeltjes)
    lien = factories.contact(ukkepuk, name="Lien Maes", email="lien@example.org")
    jonas = factories.contact(bengeltjes, name="Jonas Peeters", email="jonas@example.org")
    a_session = factories.session(network, zonnebloem, days_ahead=10)
    b_session = factories.session(other, bengeltjes, days_ahead=12)
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {
        "a": network,
        "b": other,
        "a_session": a_session,
        "b_session": b_session,
        "ukkepuk": ukkepuk,
        "bengeltjes": bengeltjes,
        "tokens": {c.name: token_for(c) for c in (sofie, lien, jonas)},
        "sofie": sofie,
        "lien": lien,
        "jonas": jonas,
    }


def _a_pages(two: dict[str, Any]) -> list[str]:
    a = two["a"]
    return [
        f"/networks/{a.slug}",
        f"/networks/{a.slug}/sessions",
        f"/sessions/{two['a_session'].id}",
        f"/m/{two['tokens']['Sofie Claes']}",
    ]


def _b_pages(two: dict[str, Any]) -> list[str]:
    b = two["b"]
    return [
        f"/networks/{b.slug}",
        f"/networks/{b.slug}/sessions",
        f"/sessions/{two['b_session'].id}",
        f"/m/{two['tokens']['Jonas Peeters']}",
    ]


def _all_pages(two: dict[str, Any]) -> list[str]:
    return [
        "/",
        *_a_pages(two),
        *_b_pages(two),
        f"/m/{two['tokens']['Lien Maes']}",  # Ukkepuk: a member of both networks
        f"/facilities/{two['ukkepuk'].id}",
    ]


def _fill(client: Any, urls: list[str]) -> None:
    for url in urls:
        client.get(url)  # a first visit may write (a calendar feed), then flashes go
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_an_answer_in_another_network_leaves_this_networks_kept_pages(app, two):
    client = app.test_client()
    assert login(client, "an@example.org").status_code == 302
    _fill(client, _all_pages(two))
    cache = cache_of(app)
    before = {url: client.get(url).data for url in _a_pages(two)}
    answer(app.test_client(), two["tokens"]["Jonas Peeters"], two["b_session"].id, "yes")
    hits = cache.hits
    for url in _a_pages(two):
        assert client.get(url).data == before[url], url  # the same kept page
    assert cache.hits == hits + len(_a_pages(two))  # all served kept
    hits = cache.hits
    for url in _b_pages(two):
        client.get(url)
    assert cache.hits == hits  # network B's pages and Jonas's page are rendered anew
    assert "Jonas" in client.get(f"/sessions/{two['b_session'].id}").get_data(as_text=True)


def test_a_colleague_network_page_stays_kept_after_a_facilitator_edit_elsewhere(app, two):
    """A facilitator edits a session of network B: A's pages stay kept; the dashboard,
    which lists B, is rendered anew."""
    client = app.test_client()
    login(client, "an@example.org")
    _fill(client, ["/", *_a_pages(two)])
    two["b_session"].title = "Buiten spelen"
    db.session.commit()
    hits = cache_of(app).hits
    for url in _a_pages(two):
        client.get(url)
    assert cache_of(app).hits == hits + len(_a_pages(two))
    client.get("/")
    assert cache_of(app).hits == hits + len(_a_pages(two))  # the dashboard: anew


def _writes(app: Any, client: Any, two: dict[str, Any]) -> list[tuple[str, Any]]:
    """Writes in B, in A, in both (the shared facility), and every way the app writes."""
    b, ukkepuk, jonas = two["b"], two["ukkepuk"], two["jonas"]

    def answer_in_b() -> None:
        response = answer(
            app.test_client(), two["tokens"]["Jonas Peeters"], two["b_session"].id, "yes"
        )
        assert response.status_code == 303

    def colleague_answer_in_a() -> None:  # Lien (both networks) answers in A
        response = answer(
            app.test_client(), two["tokens"]["Lien Maes"], two["a_session"].id, "maybe"
        )
        assert response.status_code == 303

    def shared_facility_form() -> None:
        data = {
            "name": "Kinderopvang Ukkepuk (nieuw)",
            "postcode": "9000",
            "city": "Gent",
            "street": "Nieuwe straat 9",
            "room_capacity": "14",
            "willing_to_host": "1",
        }
        assert client.post(f"/facilities/{ukkepuk.id}/edit", data=data).status_code == 302

    def learning_in_b() -> None:  # the evaluation's questions of network B
        data = {"place-useful": "1", "place-next_topic": "2", "enabled": "1"}
        url = f"/networks/{b.slug}/evaluation/questions"
        assert client.post(url, data=data).status_code == 303

    def contact_in_b() -> None:
        jonas.name = "Jonas Peeters-Verhoeven"
        db.session.commit()

    def session_in_b() -> None:
        two["b_session"].title = "Taal en spel"
        db.session.commit()

    def facility_closed() -> None:
        db.session.add(
            Unavailability(
                facility_id=ukkepuk.id, starts_on=date(2027, 1, 4), ends_on=date(2027, 1, 8)
            )
        )
        db.session.commit()

    def joins_a() -> None:  # De Bengeltjes joins A: a new network on Jonas's page
        factories.member(two["a"], two["bengeltjes"], joined_on=date(2026, 1, 1))
        db.session.commit()

    def bulk_in_b() -> None:
        db.session.execute(
            update(Rsvp).where(Rsvp.session_id == two["b_session"].id).values(note="Met de fiets")
        )
        db.session.commit()

    def textual() -> None:
        db.session.execute(text("UPDATE contact SET phone = '09 123 45 67'"))
        db.session.commit()

    def contact_gone() -> None:
        db.session.delete(jonas)
        db.session.commit()

    def membership_ended_in_a() -> None:  # the network page's member table (a kept part)
        stay = next(m for m in two["a"].memberships if m.facility_id == ukkepuk.id)
        stay.left_on = date(2026, 6, 30)
        db.session.commit()

    def attendance_in_a() -> None:  # the bridges that weaken (a kept part of the dashboard)
        db.session.add(
            Attendance(
                session_id=two["a_session"].id,
                contact_id=two["lien"].id,
                facility_id=ukkepuk.id,
                person_name="Lien Maes",
                facility_name=ukkepuk.name,
                status="present",
            )
        )
        db.session.commit()

    return [
        ("an answer in B", answer_in_b),
        ("a colleague's answer in A", colleague_answer_in_a),
        ("a form edit of a facility in A and B", shared_facility_form),
        ("a learning page of B", learning_in_b),
        ("a contact in B", contact_in_b),
        ("a session in B", session_in_b),
        ("a shared facility closed", facility_closed),
        ("a facility joins A", joins_a),
        ("an ORM bulk statement in B", bulk_in_b),
        ("a textual statement", textual),
        ("a contact deleted", contact_gone),
        ("a membership ended in A", membership_ended_in_a),
        ("attendance recorded in A", attendance_in_a),
    ]


def test_after_every_write_in_either_network_the_kept_page_is_the_fresh_page(
    second_app,  # noqa: F811
    app,
    two,
):
    fresh_app = second_app(PAGE_CACHE_SECONDS=0)
    kept_client, fresh_client = app.test_client(), fresh_app.test_client()
    for c in (kept_client, fresh_client):
        assert login(c, "an@example.org").status_code == 302
    urls = _all_pages(two)
    _fill(kept_client, urls)
    served_kept = 0
    for label, write in _writes(app, kept_client, two):
        write()
        db.session.expire_all()
        kept_client.get("/account")  # shows a form's flashed message (never kept)
        for url in urls:
            hits = cache_of(app).hits
            kept_response = kept_client.get(url)
            served_kept += cache_of(app).hits - hits
            with fresh_app.app_context():
                fresh_response = fresh_client.get(url)
            assert kept_response.status_code == fresh_response.status_code, (label, url)
            kept, fresh = kept_response.get_data(as_text=True), fresh_response.get_data(True)
            assert _same(kept) == _same(fresh), (label, url)
    assert served_kept > 0  # some writes left some pages kept, and they were right


def test_scoped_pages_never_read_a_table_left_out_of_the_scopes(app, two):
    """A table whose writes touch no scope (``UNSCOPED_TABLES``) must not be read by a
    page that keys on scopes: its changes would not reach the page."""
    client = app.test_client()
    login(client, "an@example.org")
    urls = [u for u in _all_pages(two) if not u.startswith("/facilities")]
    _fill(client, urls)
    counter = QueryCounter()
    db.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        for url in urls:
            cache_of(app).clear()
            assert client.get(url).status_code == 200
    finally:
        db.event.remove(db.engine, "before_cursor_execute", counter)
    read = " ".join(s for s in counter.statements if s.lstrip().upper().startswith("SELECT"))
    for table in changes.UNSCOPED_TABLES - {"scope_version", "data_version"}:
        assert f" {table}" not in read, table


def test_an_answer_bumps_its_network_and_its_member_not_the_others(app, two):
    start = changes.versions([f"n:{two['a'].id}", f"n:{two['b'].id}", f"c:{two['sofie'].id}"])
    client = app.test_client()
    token = two["tokens"]["Jonas Peeters"]
    page = client.get(f"/m/{token}").get_data(as_text=True)
    counter = QueryCounter()
    db.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.post(
            f"/m/{token}/sessions/{two['b_session'].id}",
            data={"answer": "yes", "csrf_token": csrf_token_from(page)},
        )
    finally:
        db.event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 303
    after = dict(changes.versions([f"n:{two['a'].id}", f"n:{two['b'].id}", f"c:{two['sofie'].id}"]))
    start = dict(start)
    assert after[f"n:{two['b'].id}"] != start[f"n:{two['b'].id}"]
    assert after[f"n:{two['a'].id}"] == start[f"n:{two['a'].id}"]
    assert after[f"c:{two['sofie'].id}"] == start[f"c:{two['sofie'].id}"]
    assert after["shared"] == start["shared"]
    bumps = [s for s in counter.statements if "scope_version" in s and "INSERT" in s.upper()]
    assert len(bumps) == 1  # one statement for all the scopes


# --- kept parts (learnnet.sections) -----------------------------------------------------------


def test_settled_twins_move_with_every_write_but_an_answer(app, two):
    """An answer moves its network, member and host facility, not their settled twins;
    any other write moves both."""
    a, b = two["a"], two["b"]
    watched = [
        changes.network_scope(b.id),
        changes.settled(changes.network_scope(b.id)),
        changes.contact_scope(two["jonas"].id),
        changes.settled(changes.contact_scope(two["jonas"].id)),
        changes.settled(changes.network_scope(a.id)),
    ]
    assert changes.settled("n:7") == "ns:7" and changes.settled("shared") == "shared"
    start = dict(changes.versions(watched))
    answer(app.test_client(), two["tokens"]["Jonas Peeters"], two["b_session"].id, "yes")
    after = dict(changes.versions(watched))
    assert after[f"n:{b.id}"] != start[f"n:{b.id}"]
    assert after[f"c:{two['jonas'].id}"] != start[f"c:{two['jonas'].id}"]
    assert after[f"ns:{b.id}"] == start[f"ns:{b.id}"]
    assert after[f"cs:{two['jonas'].id}"] == start[f"cs:{two['jonas'].id}"]
    two["b_session"].title = "Taal en spel"
    db.session.commit()
    later = dict(changes.versions(watched))
    assert later[f"n:{b.id}"] != after[f"n:{b.id}"]
    assert later[f"ns:{b.id}"] != after[f"ns:{b.id}"]
    assert later[f"ns:{a.id}"] == after[f"ns:{a.id}"]


def test_a_page_rendered_anew_after_an_answer_keeps_its_parts_and_is_the_fresh_page(
    second_app,  # noqa: F811
    app,
    two,
):
    """After an answer each page of the network is rendered anew (the page cache has
    nothing) but takes its answer-free parts as kept, and still equals the fresh page."""
    fresh_app = second_app(PAGE_CACHE_SECONDS=0)
    kept_client, fresh_client = app.test_client(), fresh_app.test_client()
    for c in (kept_client, fresh_client):
        assert login(c, "an@example.org").status_code == 302
    urls = ["/", *_b_pages(two)]
    _fill(kept_client, urls)
    parts = sections.sections_of(app)
    assert parts is not None and len(parts) >= 4
    for value in ("yes", "no", "maybe"):
        answer(app.test_client(), two["tokens"]["Jonas Peeters"], two["b_session"].id, value)
        db.session.expire_all()
        for url in urls:
            page_hits, part_hits = cache_of(app).hits, parts.hits
            kept = kept_client.get(url).get_data(as_text=True)
            assert cache_of(app).hits == page_hits, url  # rendered anew
            if not url.startswith("/m/"):  # Jonas's own page: his answer moved his scopes
                assert parts.hits > part_hits, url  # with its parts as kept
            with fresh_app.app_context():
                fresh = fresh_client.get(url).get_data(as_text=True)
            assert _same(kept) == _same(fresh), (value, url)


def test_kept_parts_never_read_an_answer(app, two, monkeypatch):
    """What a part reads is kept under versions that answers do not move: it must not
    read the answer tables."""
    client = app.test_client()
    login(client, "an@example.org")
    urls = [u for u in _all_pages(two) if not u.startswith("/facilities")]
    _fill(client, urls)
    counter = QueryCounter()
    building = []
    real_kept = sections.kept

    def watched(name, scopes, build, key=(), **options):
        def build_watched():
            building.append(name)
            try:
                return build()
            finally:
                building.pop()

        return real_kept(name, scopes, build_watched, key, **options)

    monkeypatch.setattr(sections, "kept", watched)

    def listen(*args: Any) -> None:
        if building:
            counter(*args)

    db.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        for url in urls:
            cache_of(app).clear()
            sections.sections_of(app).clear()
            assert client.get(url).status_code == 200
    finally:
        db.event.remove(db.engine, "before_cursor_execute", listen)
    assert counter.statements  # the parts were built, and read
    read = " ".join(counter.statements)
    for table in changes.ANSWER_TABLES:
        assert not re.search(rf"\b{table}\b", read), table
