"""The dashboard, network page and facility list issue a fixed number of statements."""

from __future__ import annotations

from learnnet.extensions import db
from tests import factories


def grow(facilitator, networks: int, facilities: int, contacts: int) -> list:
    """Networks, each with members that each have contacts; some facilities shared."""
    made = []
    shared = None
    for n in range(networks):
        net = factories.network(facilitators=[facilitator], name=f"Netwerk {n}")
        for f in range(facilities):
            fac = factories.facility(postcode=str(1000 + f))
            factories.member(net, fac)
            for c in range(contacts):
                factories.contact(fac, share_details=c % 2 == 0)
        if shared is not None:
            factories.member(net, shared)
        shared = fac
        made.append(net)
    db.session.commit()
    return made


def statements(client, count_queries, url: str) -> int:
    client.get(url)  # a first visit may make the page's calendar feed once
    db.session.expire_all()
    before = count_queries.count
    response = client.get(url)
    assert response.status_code == 200
    return count_queries.count - before


def test_statement_counts_do_not_grow_with_the_data(app, facilitator, logged_in, count_queries):
    small = grow(facilitator, networks=1, facilities=2, contacts=1)
    small_counts = {
        "dashboard": statements(logged_in, count_queries, "/"),
        "network": statements(logged_in, count_queries, f"/networks/{small[0].slug}"),
        "facilities": statements(logged_in, count_queries, "/facilities"),
    }
    large = grow(facilitator, networks=6, facilities=15, contacts=3)
    large_counts = {
        "dashboard": statements(logged_in, count_queries, "/"),
        "network": statements(logged_in, count_queries, f"/networks/{large[3].slug}"),
        "facilities": statements(logged_in, count_queries, "/facilities"),
    }
    assert large_counts == small_counts
    # 13: the network page also reads this werkjaar's theme with its goals, the dashboard
    # the bridges that weaken (the contacts of the few it shows apart, not every contact
    # of every member: issue 24), and a page rendered anew reads its scoped versions.
    assert max(small_counts.values()) <= 13, small_counts


def test_timeline_statements_do_not_grow_with_sessions(app, facilitator, logged_in, count_queries):
    (net,) = grow(facilitator, networks=1, facilities=3, contacts=1)
    hosts = [m.facility for m in net.memberships]
    factories.session(net, hosts[0], days_ahead=-20)
    factories.session(net, hosts[1], days_ahead=20)
    db.session.commit()
    small = statements(logged_in, count_queries, f"/networks/{net.slug}/sessions")
    small_dash = statements(logged_in, count_queries, "/")
    more = [factories.facility(postcode="3000") for _ in range(10)]
    for n, fac in enumerate(more):
        factories.member(net, fac)
        factories.session(net, fac, days_ahead=-300 + n * 50)
    db.session.commit()
    assert statements(logged_in, count_queries, f"/networks/{net.slug}/sessions") == small
    assert statements(logged_in, count_queries, "/") == small_dash
