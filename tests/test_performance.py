"""The shortcuts taken for speed (issue 11) give exactly what the slow way gave."""

from __future__ import annotations

import re
from datetime import date, timedelta

from babel.dates import format_date as babel_format_date
from flask import render_template_string, url_for
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from learnnet.extensions import db
from learnnet.planning.rotation import Member, takers_by_day, turn_takers
from learnnet.timefmt import NL_MONTHS, format_day
from tests import factories
from tests.rsvp_helpers import answer, token_for

TEMPLATE = """{{ _("Save") }}|{{ _("Hello %(name)s", name=who) }}|\
{{ ngettext("%(num)d facility", "%(num)d facilities", n) }}|{{ _("Save") }}"""


def _expected(who: str, n: int) -> str:
    """What Jinja's own newstyle gettext makes of Flask-Babel's translations."""
    save = Markup(babel_gettext("Save")) % {}
    hello = Markup(babel_gettext("Hello %(name)s")) % {"name": who}
    count = Markup(babel_ngettext("%(num)d facility", "%(num)d facilities", n)) % {"num": n}
    return f"{save}|{hello}|{count}|{save}"


def test_template_translations_are_flask_babels_also_when_the_locale_changes(app):
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        who = "<b>Sofie</b>"
        dutch = render_template_string(TEMPLATE, who=who, n=3)
        assert dutch == _expected(who, 3)
        assert "Opslaan" in dutch and "&lt;b&gt;Sofie&lt;/b&gt;" in dutch
        with force_locale("en"):  # a mail in the recipient's language, mid-request
            english = render_template_string(TEMPLATE, who=who, n=1)
            assert english == _expected(who, 1)
            assert english.startswith("Save|")
        assert render_template_string(TEMPLATE, who=who, n=3) == dutch
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(TEMPLATE, who="An", n=2) == _expected("An", 2)


def test_text_templates_are_not_escaped(app):
    with app.test_request_context():
        env = app.jinja_env.overlay(autoescape=False)
        text = env.from_string('{{ _("Hello %(name)s", name=who) }}').render(who="<An>")
        assert text == babel_gettext("Hello %(name)s", name="<An>")


def _format_day_with_babel(day: date, locale: str) -> str:
    """format_day as it was: Babel asked for every date."""
    weekday = babel_format_date(day, "EEE", locale=locale)
    if locale.startswith("nl"):
        month = NL_MONTHS[day.month - 1]
    else:
        month = babel_format_date(day, "MMM", locale=locale)
    return f"{weekday} {day.day} {month} {day.year}"


def test_dates_read_as_babel_writes_them_every_day_of_two_years():
    start = date(2027, 1, 1)
    for locale in ("nl", "en", "nl_BE", "en_GB"):
        for n in range(731):
            day = start + timedelta(days=n)
            assert format_day(day, locale) == _format_day_with_babel(day, locale), (day, locale)


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def members(draw):
    out = []
    for n in range(draw(st.integers(0, 12))):
        joined = draw(st.none() | days)
        left = draw(st.none() | days)
        out.append(
            Member(
                id=n,
                name=f"m{n}",
                capacity=draw(st.none() | st.integers(5, 30)),
                willing=draw(st.booleans()),
                joined_on=joined,
                left_on=left,
                has_contact=draw(st.booleans()),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(members(), st.lists(days, max_size=40), st.none() | st.integers(5, 30))
def test_takers_by_day_agree_with_turn_takers_on_every_day(group, on, expected):
    takers = takers_by_day(group, expected)
    edges = [d for m in group for d in (m.joined_on, m.left_on) if d is not None]
    around = [d + timedelta(days=k) for d in edges for k in (-1, 0, 1)]
    for day in [*on, *around]:
        assert takers(day) == turn_takers(group, day, expected), day


def test_warm_up_compiles_every_template_and_reads_each_language_without_the_database(
    app, count_queries
):
    from learnnet.templating import warm_up

    app.jinja_env.cache.clear()
    warm_up(app)
    names = app.jinja_env.list_templates(extensions=("html", "txt"))
    assert len(app.jinja_env.cache) >= min(len(names), app.jinja_env.cache.capacity)
    assert count_queries.count == 0  # it runs in gunicorn's master: no connection there


def test_the_member_pages_links_are_the_routes_own(app, client, network):
    """The member's page builds its links from one url_for; they are what url_for gives."""
    zonnebloem = network.memberships[0].facility
    me, colleague = zonnebloem.contacts
    session = factories.session(network, zonnebloem, days_ahead=20)  # my facility hosts
    db.session.commit()
    token = token_for(me)
    answer(client, token_for(colleague), session.id, "yes")
    html = client.get(f"/m/{token}").get_data(as_text=True)
    with app.test_request_context():
        expected = {
            url_for("rsvp.member_answer", token=token, session_id=session.id),
            url_for("rsvp.member_host_confirm", token=token, session_id=session.id),
            url_for("rsvp.member_host_decline", token=token, session_id=session.id),
            url_for("rsvp.member_host_details", token=token, session_id=session.id),
            url_for("calendar.member_session_file", token=token, session_id=session.id),
        }
    links = set(re.findall(rf'(?:action|href)="(/m/[^"]*/sessions/{session.id}[^"#]*)"', html))
    assert links == expected
    # One token per form, built once per page: the answer and the colleague's, the host's
    # yes, no and details, the feed renewal, the confirmation-mail choice (the message and
    # add-colleague forms are WTForms', which leave their token out while the tests switch
    # CSRF off).
    assert html.count('name="csrf_token"') == 7
    assert f'aria-label="{colleague.name} komt"' in html


def test_a_feed_revalidation_is_one_statement_for_every_kind_of_feed(
    app, client, network, facilitator, count_queries
):
    from learnnet.calendar import services as calendar_services

    member = network.memberships[0].facility.contacts[0]
    factories.session(network, network.memberships[1].facility, days_ahead=10)
    db.session.commit()
    for kind, owner in (("network", network.id), ("contact", member.id), ("user", facilitator.id)):
        feed = calendar_services.ensure_feed(kind, owner)
        db.session.commit()
        url = f"/feeds/{calendar_services.token_of(feed)}.ics"
        etag = client.get(url).headers["ETag"]
        db.session.expire_all()
        count_queries.statements.clear()
        response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 304, kind
        assert count_queries.count == 1, (kind, count_queries.statements)


def test_the_timeline_shows_the_latest_past_and_the_rest_on_request(
    app, logged_in, network, count_queries
):
    from learnnet.sessions.views import PAST_SHOWN

    host = network.memberships[0].facility
    past = [factories.session(network, host, days_ahead=-7 * n) for n in range(1, 26)]
    factories.session(network, host, days_ahead=10)
    db.session.commit()
    url = f"/networks/{network.slug}/sessions"
    logged_in.get(url)
    count_queries.statements.clear()
    html = logged_in.get(url).get_data(as_text=True)
    statements = count_queries.count
    shown = [s for s in past if f"/sessions/{s.id}" in html]
    assert shown == past[:PAST_SHOWN]  # the latest first
    assert "?past=all#past" in html
    count_queries.statements.clear()
    everything = logged_in.get(url + "?past=all").get_data(as_text=True)
    assert all(f"/sessions/{s.id}" in everything for s in past)
    assert "?past=all#past" not in everything
    assert count_queries.count == statements


def test_session_page_statements_do_not_grow_with_members_and_answers(
    app, logged_in, network, count_queries
):
    host = network.memberships[0].facility
    host.room_capacity = 200  # no flag (a room too small) when the network grows
    session = factories.session(network, host, days_ahead=12)
    db.session.commit()
    url = f"/sessions/{session.id}"

    def statements() -> int:
        logged_in.get(url)
        db.session.expire_all()
        count_queries.statements.clear()
        assert logged_in.get(url).status_code == 200
        return count_queries.count

    few = statements()
    for n in range(15):
        facility = factories.facility(name=f"Groot {n}")
        factories.member(network, facility)
        for _ in range(3):
            contact = factories.contact(facility)
            answer(logged_in, token_for(contact), session.id, ("yes", "maybe", "no")[n % 3])
    db.session.commit()
    more = statements()
    assert more == few, count_queries.statements
