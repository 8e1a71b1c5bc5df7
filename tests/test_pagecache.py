"""The page cache (learnnet.pagecache) and the data version it trusts (learnnet.changes).

The oracle for "a kept page is right" is the same page rendered by a second app on the
same database with the cache switched off: after every kind of write, both must show
the same thing. The rest: whose page is kept for whom, flashed messages, form tokens,
the age limit and the memory bound.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text, update

from learnnet import changes
from learnnet.extensions import db
from learnnet.networks.models import Facility, Network
from learnnet.pagecache import PageCache, cache_of
from learnnet.sections import sections_of
from tests import factories
from tests.conftest import QueryCounter, csrf_token_from, login
from tests.rsvp_helpers import answer, token_for

TOKEN = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


def _same(html: str) -> str:
    """A page without its form tokens (each render signs them anew)."""
    return TOKEN.sub('name="csrf_token" value=""', html)


@pytest.fixture
def second_app(db_url, tmp_path):
    """Another app on the same database, made without emptying it (as a second worker
    starts): ``second_app(**settings)``."""
    from learnnet import create_app
    from tests.conftest import Client, base_config

    apps = []

    def build(**extra: Any) -> Any:
        other = create_app(
            base_config(db_url, **extra), instance_path=str(tmp_path / f"second{len(apps)}")
        )
        other.test_client_class = Client
        apps.append(other)
        return other

    yield build
    for other in apps:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def world(app, facilitator, network) -> dict[str, Any]:
    host = network.memberships[0].facility
    session = factories.session(network, host, days_ahead=10)
    sofie = next(c for c in host.contacts if c.name == "Sofie Claes")
    db.session.commit()
    return {"network": network, "session": session, "host": host, "sofie": sofie}


def _pages(world: dict[str, Any]) -> list[str]:
    network, session = world["network"], world["session"]
    return [
        "/",
        f"/networks/{network.slug}",
        f"/networks/{network.slug}/sessions",
        f"/sessions/{session.id}",
        "/facilities",
        f"/facilities/{world['host'].id}",
    ]


# --- the data version ------------------------------------------------------------------------


def test_the_version_moves_once_per_committed_write_and_never_for_reads(app, network):
    start = changes.current()
    db.session.execute(db.select(Network)).all()
    db.session.commit()
    assert changes.current() == start  # reading is no change

    network.name = "Hernoemd"
    db.session.commit()
    assert changes.current() == start + 1

    network.name = "Teruggedraaid"
    db.session.flush()
    db.session.rollback()
    assert changes.current() == start + 1  # rolled back: nothing changed

    db.session.execute(update(Facility).values(city="Gent"))  # an ORM bulk statement
    db.session.commit()
    assert changes.current() == start + 2

    db.session.execute(text("UPDATE network SET description = 'x'"))  # and a textual one
    db.session.commit()
    assert changes.current() == start + 3


def test_a_recreated_version_row_starts_above_the_old_number(app, network):
    """``demo --reset`` or an emptied database: kept pages must not match the new data."""
    network.name = "Voor"
    db.session.commit()
    for _ in range(3):
        network.name += "!"
        db.session.commit()
    old = changes.current()
    db.session.execute(text("DELETE FROM data_version"))
    db.session.commit()  # that write itself makes the row anew
    assert changes.current() > old


def test_another_connection_sees_the_new_version_with_the_change(app_factory):
    one, two = app_factory(), app_factory()
    with one.app_context():
        net_id = factories.network(name="Eerst").id
        db.session.commit()
        before = changes.current()
    with two.app_context():
        assert changes.current() == before
        db.session.get(Network, net_id).name = "Daarna"
        db.session.commit()
    with one.app_context():
        assert changes.current() == before + 1
        assert db.session.get(Network, net_id).name == "Daarna"


# --- kept pages ------------------------------------------------------------------------------


def test_a_kept_page_is_the_same_page_for_a_few_statements(app, logged_in, world):
    counter = QueryCounter()
    db.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        for url in _pages(world):
            logged_in.get(url)  # a first visit may write (the network's calendar feed)
            cache_of(app).clear()
            counter.statements.clear()
            first = logged_in.get(url)
            rendered = counter.count
            counter.statements.clear()
            again = logged_in.get(url)
            assert first.status_code == again.status_code == 200, url
            assert again.data == first.data, url  # the very same page, tokens included
            # the user (with the one number), the access rule's objects and the scopes'
            # counts; never the page's lists
            assert counter.count <= 3 < rendered, (url, counter.statements)
    finally:
        db.event.remove(db.engine, "before_cursor_execute", counter)
    assert cache_of(app).hits == len(_pages(world))


def _writes(app, logged_in, world) -> list[tuple[str, Any]]:
    """Changes made every way the app writes: forms, the personal link, services, bulk
    and textual statements, a CSV import."""
    network, host, sofie = world["network"], world["host"], world["sofie"]

    def form_edit() -> None:
        data = {
            "name": "KDV De Zonnebloem (nieuw)",
            "postcode": host.postcode,
            "city": host.city,
            "street": "Nieuwe straat 9",
            "room_capacity": "14",
            "willing_to_host": "1",
        }
        response = logged_in.post(f"/facilities/{host.id}/edit", data=data)
        assert response.status_code == 302

    def personal_link() -> None:
        client = app.test_client()
        response = answer(client, token_for(sofie), world["session"].id, "yes")
        assert response.status_code == 303

    def service() -> None:
        factories.facility(name="Kinderdagverblijf Nieuwkomer", postcode="9050", city="Gent")
        db.session.commit()

    def orm_bulk() -> None:
        db.session.execute(update(Network).values(description="Thema: buiten spelen"))
        db.session.commit()

    def textual() -> None:
        db.session.execute(text("UPDATE facility SET city = 'Gentbrugge'"))
        db.session.commit()

    def csv_import() -> None:
        lines = "naam,postcode,gemeente\r\nKinderopvang Import,9000,Gent\r\n"
        from io import BytesIO

        response = logged_in.post(
            f"/networks/{network.slug}/import",
            data={"file": (BytesIO(lines.encode()), "leden.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 302)

    return [
        ("a form", form_edit),
        ("a personal link", personal_link),
        ("a service and commit", service),
        ("an ORM bulk statement", orm_bulk),
        ("a textual statement", textual),
        ("a CSV upload", csv_import),
    ]


def test_after_every_kind_of_write_the_kept_page_is_the_fresh_page(second_app, app, world):
    """Oracle: a second app on the same database that keeps nothing."""
    fresh_app = second_app(PAGE_CACHE_SECONDS=0)
    assert cache_of(app) is not None and cache_of(fresh_app) is None
    cached_client, fresh_client = app.test_client(), fresh_app.test_client()
    for c in (cached_client, fresh_client):
        assert login(c, "an@example.org").status_code == 302
    for c in (cached_client, fresh_client):  # fill the cache (flashes are gone by now)
        for url in _pages(world):
            c.get(url)
    for label, write in _writes(app, cached_client, world):
        write()
        db.session.expire_all()
        cached_client.get("/")  # shows the form's flashed message (never kept)
        for url in _pages(world):
            kept = cached_client.get(url).get_data(as_text=True)
            with fresh_app.app_context():
                fresh = fresh_client.get(url).get_data(as_text=True)
            assert _same(kept) == _same(fresh), (label, url)
            again = cached_client.get(url).get_data(as_text=True)
            assert again == kept, (label, url)  # and now it is kept again


def test_a_member_page_is_kept_until_the_member_answers(app, world):
    sofie = world["sofie"]
    client = app.test_client()
    url = f"/m/{token_for(sofie)}"
    first = client.get(url)
    assert client.get(url).data == first.data
    hits = cache_of(app).hits
    answer(client, token_for(sofie), world["session"].id, "yes")
    after = client.get(url).get_data(as_text=True)
    assert cache_of(app).hits == hits  # the answer changed the data
    assert "success" in after  # the flashed confirmation shows, once
    assert client.get(url).data != first.data
    assert client.get(url).data == client.get(url).data


def test_pages_are_never_served_to_someone_else(second_app, app, world):
    """Three people in turn, each page twice: always what a fresh render shows them."""
    other = factories.user(email="tom@example.org", name="Tom Janssens")
    factories.user(email="boss@example.org", name="Beheerder Bart", role="admin")
    world["network"].facilitators.append(other)
    db.session.commit()
    fresh_app = second_app(PAGE_CACHE_SECONDS=0)
    greetings = set()
    for email in ("an@example.org", "tom@example.org", "boss@example.org"):
        client, fresh = app.test_client(), fresh_app.test_client()
        assert login(client, email).status_code == login(fresh, email).status_code == 302
        for url in _pages(world):
            client.get(url)
            kept = client.get(url).get_data(as_text=True)
            with fresh_app.app_context():
                expected = fresh.get(url).get_data(as_text=True)
            assert _same(kept) == _same(expected), (email, url)
            if url == "/":
                greetings.add(kept)
    assert len(greetings) == 3
    # A personal link's page belongs to its link.
    hanne = next(c for c in world["host"].contacts if c.name == "Hanne De Smet")
    visitor = app.test_client()
    sofie_page = visitor.get(f"/m/{token_for(world['sofie'])}").get_data(as_text=True)
    hanne_page = visitor.get(f"/m/{token_for(hanne)}").get_data(as_text=True)
    assert "Sofie" in sofie_page and "Hanne" in hanne_page and sofie_page != hanne_page


def test_access_is_checked_before_a_kept_page_is_served(app, logged_in, world, facilitator):
    url = f"/networks/{world['network'].slug}"
    assert logged_in.get(url).status_code == 200
    logged_in.get("/logout")
    logged_in.post("/logout")
    assert logged_in.get(url).status_code == 302  # to the login page, not the kept page
    stranger = factories.user(email="vreemd@example.org")
    db.session.commit()
    client = app.test_client()
    login(client, stranger.email)
    assert client.get(url).status_code == 403


def test_the_language_is_part_of_the_key(app, logged_in, world):
    url = f"/networks/{world['network'].slug}"
    dutch = logged_in.get(url).get_data(as_text=True)
    token = csrf_token_from(logged_in.get("/account").get_data(as_text=True))
    logged_in.post("/language", data={"csrf_token": token, "lang": "en", "next": url})
    english = logged_in.get(url).get_data(as_text=True)
    assert 'lang="nl"' in dutch and 'lang="en"' in english


def test_form_tokens_on_a_kept_page_are_accepted(second_app, world):
    """Two phones open the same personal link: each is served its own kept page, whose
    form tokens its own session accepts."""
    app = second_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        sofie = db.session.get(type(world["sofie"]), world["sofie"].id)
        token = token_for(sofie)
    url = f"/m/{token}"
    one, two = app.test_client(), app.test_client()
    one.get(url)  # the first visit makes the member's calendar feed
    kept = {}
    for phone in (one, two):
        phone.get(url)
        kept[phone] = phone.get(url).get_data(as_text=True)
    assert cache_of(app).hits == 2
    assert csrf_token_from(kept[one]) != csrf_token_from(kept[two])
    for phone in (two, one):
        html = kept[phone]
        form = re.search(r'<form method="post" action="(/m/[^"]+/sessions/\d+)"', html).group(1)
        response = phone.post(form, data={"csrf_token": csrf_token_from(html), "answer": "yes"})
        assert response.status_code == 303


def test_form_tokens_in_kept_parts_are_each_browsers_own(second_app, world):
    """After an answer two phones on one personal link each get the page rendered anew
    with its kept parts (learnnet.sections); the message form in those parts carries each
    phone's own token, which its session accepts and the other phone's does not."""
    app = second_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        sofie = db.session.get(type(world["sofie"]), world["sofie"].id)
        token = token_for(sofie)
        session_id = world["session"].id
    url = f"/m/{token}"
    one, two, other = app.test_client(), app.test_client(), app.test_client()
    for phone in (one, two, one, two):
        phone.get(url)
    page = other.get(url).get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/m/[^"]+/sessions/\d+)"', page).group(1)
    assert (
        other.post(form, data={"csrf_token": csrf_token_from(page), "answer": "no"}).status_code
        == 303
    )
    other.get(url)  # its "saved" message
    pages = {}
    for phone in (one, two):
        hits = sections_of(app).hits
        response = phone.get(url)
        assert response.headers["X-Page-Cache"] == "miss"  # rendered anew after the answer
        pages[phone] = response.get_data(as_text=True)
    assert sections_of(app).hits > hits  # the second phone took the kept parts

    def message_token(html: str) -> str:
        form = html.split('/messages"', 1)[1]
        return re.search(r'name="message-csrf_token"[^>]*value="([^"]+)"', form).group(1)

    data = {"message-session": str(session_id), "message-body": "Ik breng de koffie mee."}
    refused = two.post(
        f"{url}/messages", data={**data, "message-csrf_token": message_token(pages[one])}
    )
    assert refused.status_code == 400  # another phone's token
    for phone in (one, two):
        sent = phone.post(
            f"{url}/messages", data={**data, "message-csrf_token": message_token(pages[phone])}
        )
        assert sent.status_code == 303


def test_a_switched_off_cache_keeps_nothing(app_factory, world):
    app = app_factory(PAGE_CACHE_SECONDS=0)
    assert cache_of(app) is None


# --- the cache itself ------------------------------------------------------------------------


def test_kept_pages_expire_after_the_age_limit():
    cache = PageCache(max_bytes=1 << 20, seconds=60)
    cache.put(("a",), b"<p>a</p>", now=1000.0)
    assert cache.get(("a",), now=1059.0) == b"<p>a</p>"
    assert cache.get(("a",), now=1061.0) is None
    assert len(cache) == 0 and cache.size == 0


def test_the_least_recently_used_pages_make_room():
    import os

    pages = {k: os.urandom(3000) for k in "abcd"}  # random: zlib cannot shrink them
    cache = PageCache(max_bytes=10_000, seconds=60)
    for k in "abc":
        cache.put((k,), pages[k], now=0.0)
    assert cache.get(("a",), now=1.0) == pages["a"]  # a is now the most recent
    cache.put(("d",), pages["d"], now=2.0)
    assert cache.get(("b",), now=3.0) is None  # b was the least recently used
    assert [cache.get((k,), now=3.0) for k in "acd"] == [pages[k] for k in "acd"]
    assert cache.size <= cache.max_bytes
    cache.put(("huge",), os.urandom(20_000), now=4.0)  # bigger than the whole cache
    assert cache.get(("huge",), now=4.0) is None and len(cache) == 3


def test_a_new_data_version_lets_go_of_the_pages_of_older_ones():
    cache = PageCache(max_bytes=1 << 20, seconds=60)
    a1, b1 = (("*", 1),), (("shared", 5), ("n:1", 1))
    cache.put(("a", a1), b"a1", now=0.0, versions=a1)
    cache.put(("b", b1), b"b1", now=0.0, versions=b1)
    a2 = (("*", 2),)
    cache.put(("a", a2), b"a2", now=1.0, versions=a2)
    assert len(cache) == 2 and cache.get(("a", a2), now=1.0) == b"a2"  # b keys on scopes
    # network 1 moved: its pages go; a page of network 2 under the same shared count stays
    b2, c = (("shared", 5), ("n:1", 2)), (("shared", 5), ("n:2", 7))
    cache.put(("c", c), b"c", now=1.0, versions=c)
    cache.put(("b", b2), b"b2", now=2.0, versions=b2)
    assert cache.get(("b", b1), now=2.0) is None and cache.get(("c", c), now=2.0) == b"c"
    assert len(cache) == 3 and cache.size == len(b"a2b2c")
    # a database restored from an older backup: the count goes back, pages are kept again
    cache.put(("d", a1), b"d1", now=3.0, versions=a1)
    assert cache.get(("d", a1), now=3.0) == b"d1" and cache.get(("a", a2), now=3.0) is None


def test_after_a_change_a_worker_keeps_only_the_current_pages(app, logged_in, world):
    """Pages of out-of-date data are let go at once, not when the cache is full."""
    cache = cache_of(app)
    urls = _pages(world)[:3]
    for url in urls:
        logged_in.get(url)  # a first visit may write (the network's calendar feed)
    for url in urls:
        assert logged_in.get(url).status_code == 200
    assert len(cache) == 3
    world["network"].name = "Na de wijziging"
    db.session.commit()
    assert "Na de wijziging" in logged_in.get(urls[1]).get_data(as_text=True)
    assert len(cache) == 1


def test_browsers_that_accept_gzip_get_the_kept_page_as_it_is_kept(app, logged_in, world):
    import gzip

    url = f"/networks/{world['network'].slug}"
    logged_in.get(url)
    plain = logged_in.get(url)
    packed = logged_in.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert (
        "Accept-Encoding" in plain.headers["Vary"] and "Accept-Encoding" in packed.headers["Vary"]
    )
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) * 2 < len(plain.data)
    refused = logged_in.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.headers.get("Content-Encoding") is None and refused.data == plain.data


def test_a_members_page_after_her_answer_is_rendered_anew_and_still_sent_compressed(app, world):
    """After an answer her page carries the "saved" message: never kept, but compressed
    for a phone all the same, and the phone is remembered without reading the link again."""
    import gzip

    token = token_for(world["sofie"])
    phone = app.test_client()
    phone.get(f"/m/{token}")
    assert answer(phone, token, world["session"].id, "yes").status_code == 303
    page = phone.get(f"/m/{token}", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["X-Page-Cache"] == "miss"
    assert page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    assert 'class="flash' in html and "Sofie Claes" in html
    assert "learnnet_member=" in page.headers.get("Set-Cookie", "")  # the phone remembered
    counter = QueryCounter()
    db.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        again = phone.get(f"/m/{token}", headers={"Accept-Encoding": "gzip"})
    finally:
        db.event.remove(db.engine, "before_cursor_execute", counter)
    assert again.headers["X-Page-Cache"] == "miss"  # the first render without a message
    assert 'class="flash' not in gzip.decompress(again.data).decode()
    assert "learnnet_member=" in again.headers.get("Set-Cookie", "")
    links = [s for s in counter.statements if "FROM personal_link" in s]
    assert len(links) == 1, links  # the access rule's own read, not a second one


# --- ending a request's transaction ----------------------------------------------------------


def test_a_request_that_wrote_nothing_ends_with_commit_and_unsaved_changes_are_dropped(
    app, network
):
    from learnnet.changes import end_read_only

    with app.test_request_context("/"):
        db.session.execute(db.select(Network)).all()
        assert db.session().in_transaction()
        end_read_only(None)
        assert not db.session().in_transaction()  # committed, not left to the rollback

        db.session.get(Network, network.id).name = "Niet bewaard"
        db.session.flush()
        end_read_only(None)
        assert db.session().in_transaction()  # written and not committed: left alone
        db.session.rollback()

        db.session.execute(db.select(Network)).all()
        end_read_only(RuntimeError("the view failed"))
        assert db.session().in_transaction()
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Network, network.id).name != "Niet bewaard"


def test_prepared_statements_outlive_the_request_on_postgresql(second_app, db_url):
    """psycopg forgets its prepared statements at every ROLLBACK; a read-only request
    ends with COMMIT, so the next requests on the connection skip the planning. (Its own
    app: the test's open app context would keep one session across requests.)"""
    if not db_url.startswith("postgresql"):
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    server = second_app()
    client = server.test_client()
    for _ in range(8):
        assert client.get("/healthz").status_code == 200
    with server.app_context():
        prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("SELECT 1" in row[0] for row in prepared), prepared
