"""Unknown tokens are limited per address without blocking valid ones (issue 19.17).

A childcare centre's wifi is one address for everybody there, and so is a calendar
provider polling hundreds of feeds: somebody else's typos, or a feed that was renewed
long ago, must not lock out every valid personal link and feed from that address.
"""

from __future__ import annotations

from learnnet.calendar import services as calendar
from learnnet.extensions import db
from tests import factories
from tests.rsvp_helpers import token_for


def _feed_path(network_id: int) -> str:
    feed = calendar.ensure_feed("network", network_id)
    db.session.commit()
    return f"/feeds/{calendar.token_of(feed)}.ics"


def _world(app):
    net = factories.network(name="Netwerk Wifi")
    facility = factories.facility(name="KDV De Wifi")
    factories.member(net, facility)
    contact = factories.contact(facility, name="Ilse Peeters", email="ilse@example.org")
    db.session.commit()
    return net, contact


def test_past_the_limit_only_misses_are_refused(app_factory):
    app = app_factory(TOKEN_MISS_LIMIT="3 per 10 minutes")
    with app.app_context():
        net, contact = _world(app)
        link, feed = f"/m/{token_for(contact)}", _feed_path(net.id)
        wifi = app.test_client()  # everybody at the centre: one address
        misses = [wifi.get("/m/" + f"{n}" * 32).status_code for n in range(5)]
        assert misses == [404, 404, 404, 429, 429]
        assert wifi.get(link).status_code == 200
        assert wifi.get(feed).status_code == 200
        assert wifi.get("/m/" + "9" * 32).status_code == 429  # misses still are


def test_a_renewed_feed_is_gone_and_polling_it_counts_nothing(app_factory):
    app = app_factory(TOKEN_MISS_LIMIT="3 per 10 minutes")
    with app.app_context():
        net, _contact = _world(app)
        old = _feed_path(net.id)
        calendar.reissue_feed("network", net.id)
        provider = app.test_client()
        for _ in range(30):  # a calendar provider polling the old address all day
            response = provider.get(old)
            assert response.status_code == 410
            assert response.data == b""
        assert provider.get("/feeds/" + "x" * 32 + ".ics").status_code == 404  # not 429
        assert provider.get(_feed_path(net.id)).status_code == 200
