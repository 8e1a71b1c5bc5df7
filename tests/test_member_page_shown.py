"""The member's page works out in full only the sessions it shows (issue 24, render faster):
the others are read as columns, yet still counted, offered in the message form, and found
by a mail's answer button."""

from __future__ import annotations

import re

from learnnet.extensions import db
from learnnet.rsvp.views import FULL_CARDS, LATER_SHOWN
from tests import factories
from tests.rsvp_helpers import token_for


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="session-(\d+)"', html)]


def test_the_page_beyond_its_rows_still_counts_offers_and_confirms(client, network) -> None:
    zonnebloem = network.memberships[0].facility
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    shown = FULL_CARDS + LATER_SHOWN
    sessions = [
        factories.session(network, zonnebloem, days_ahead=7 + 2 * n) for n in range(shown + 5)
    ]
    db.session.commit()
    ids = [s.id for s in sessions]
    url = f"/m/{token_for(sofie)}"

    html = client.get(url).get_data(as_text=True)
    assert _rows(html) == ids[:shown]
    assert "?later=all#later" in html
    options = re.findall(r'<option value="(\d+)"', html)
    assert [int(o) for o in options] == ids  # the message form offers every coming session

    last = ids[-1]  # not a row on the short page, yet a mail's button for it works
    ready = client.get(f"{url}?session={last}&answer=yes").get_data(as_text=True)
    assert 'id="ready"' in ready and f"/sessions/{last}" in ready.split('id="ready"')[1][:1500]
    assert _rows(ready) == ids[:shown]

    everything = client.get(f"{url}?later=all").get_data(as_text=True)
    assert _rows(everything) == ids
    assert "?later=all#later" not in everything
