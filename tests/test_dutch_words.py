"""A Dutch page speaks Dutch (issue 12, quality): the visible text of the main pages, with
the demo data, holds none of a small list of English tell-tale words."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learnnet import demo
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Network
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import Session
from tests.conftest import login

TELL_TALE = {
    "the", "and", "with", "session", "sessions", "facility", "facilities", "save",
    "cancel", "delete", "please", "hosted", "planned", "attendance", "member", "members",
    "network", "networks", "hello", "none", "host", "hosts", "answer", "answers", "round",
    "edit", "add", "remove", "next", "never", "yes", "search", "calendar",
}  # fmt: skip


def visible_words(html: str) -> set[str]:
    body = html.split("<body", 1)[-1].split(">", 1)[-1]
    body = re.sub(r"<(script|style|code|svg)[^>]*>.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'<[^>]*lang="en"[^>]*>[^<]*<', "<", body)  # the "English" switch
    text = re.sub(r"<[^>]+>", " ", body)
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ_]+", text)}


@pytest.fixture
def demo_client(app, client):
    demo.load()
    db.session.commit()
    login(client, *demo.DEMO_FACILITATOR)
    return client


def test_main_pages_hold_no_english_words(app, demo_client):
    network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
    session = db.session.scalar(
        select(Session).where(Session.network_id == network.id).order_by(Session.starts_at)
    )
    facility = db.session.scalar(select(Facility).order_by(Facility.id))
    contact = db.session.scalar(select(Contact).where(Contact.email == demo.demo_member_email()))
    token = token_of(ensure_link(contact))
    db.session.commit()
    pages = [
        "/",
        f"/networks/{network.slug}",
        f"/networks/{network.slug}/sessions",
        f"/networks/{network.slug}/plan",
        f"/networks/{network.slug}/import",
        f"/networks/{network.slug}/werkjaar/overview",
        f"/networks/{network.slug}/call-list",
        "/facilities",
        f"/facilities/{facility.id}",
        f"/sessions/{session.id}",
        f"/sessions/{session.id}/programme",
        f"/networks/{network.slug}/werkjaar",
        "/account",
    ]
    found = {}
    for path in pages:
        html = demo_client.get(path).get_data(as_text=True)
        english = visible_words(html) & TELL_TALE
        if english:
            found[path] = sorted(english)
    for path in ("", "/leervragen"):
        member = demo_client.get(f"/m/{token}{path}").get_data(as_text=True)
        if visible_words(member) & TELL_TALE:
            found[f"/m/…{path}"] = sorted(visible_words(member) & TELL_TALE)
    assert found == {}
