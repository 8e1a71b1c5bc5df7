"""Small factories with sensible defaults; each adds to the session and flushes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.networks.rules import name_key, slugify
from learnnet.sessions.models import Session
from learnnet.timefmt import local_today

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def user(
    email: str | None = None,
    name: str = "Facilitator",
    role: str = "facilitator",
    may_create_networks: bool = False,
) -> User:
    """An active account with PASSWORD."""
    n = next(_seq)
    account = User(
        email=email or f"user{n}@example.org",
        name=name,
        role=role,
        may_create_networks=may_create_networks,
    )
    account.set_password(PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account


def network(facilitators: list[User] | None = None, name: str | None = None, **kw: Any) -> Network:
    """A network, facilitated by the given accounts."""
    n = next(_seq)
    name = name or f"Netwerk {n}"
    net = Network(name=name, slug=kw.pop("slug", f"{slugify(name)}-{n}"), **kw)
    net.facilitators = facilitators or []
    db.session.add(net)
    db.session.flush()
    return net


def facility(
    name: str | None = None, postcode: str = "9000", city: str = "Gent", **kw: Any
) -> Facility:
    """A facility willing to host, room for 12."""
    name = name or f"Kinderopvang {next(_seq)}"
    kw.setdefault("street", "Kerkstraat 1")
    kw.setdefault("room_capacity", 12)
    f = Facility(name=name, name_key=name_key(name), postcode=postcode, city=city, **kw)
    db.session.add(f)
    db.session.flush()
    return f


def member(
    net: Network, fac: Facility, joined_on: date = date(2025, 9, 1), left_on: date | None = None
) -> Membership:
    """The facility's membership of the network."""
    m = Membership(network=net, facility=fac, joined_on=joined_on, left_on=left_on)
    db.session.add(m)
    db.session.flush()
    return m


def session(net: Network, host: Facility, days_ahead: int = 30, **kw: Any) -> Session:
    """A planned session from 18:00 to 20:30 UTC (19:00 in Brussels in winter),
    ``days_ahead`` days from today in Brussels, as the pages count days ("over 10 dagen").

    Today in Brussels, not in UTC: from 23:00 to midnight UTC (22:00 in summer) Brussels
    is a day ahead, and a session "10 days ahead" by the UTC date was 9 days ahead on
    every page, so tests that read "over 10 dagen" or "morgen" failed in that hour."""
    day = local_today(net.timezone or "Europe/Brussels") + timedelta(days=days_ahead)
    start = datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)
    s = Session(
        network=net,
        host=host,
        starts_at=kw.pop("starts_at", start),
        ends_at=kw.pop("ends_at", start + timedelta(hours=2, minutes=30)),
        title=kw.pop("title", "Netwerkbijeenkomst"),
        capacity=host.room_capacity,
        **kw,
    )
    db.session.add(s)
    db.session.flush()
    return s


def contact(fac: Facility, name: str | None = None, email: str | None = None, **kw: Any) -> Contact:
    """A person at the facility."""
    n = next(_seq)
    c = Contact(
        facility=fac,
        name=name or f"Persoon {n}",
        email=email if email is not None else f"p{n}@example.org",
        **kw,
    )
    db.session.add(c)
    db.session.flush()
    return c
