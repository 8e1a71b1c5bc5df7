"""One loader of the planner's member facts: the planner, the hosting tally and the conflict
check read them through ``planning_services.members_by_network``, in statements that do not grow
with the number of networks, members, contacts or unavailable periods."""

from __future__ import annotations

from datetime import date, timedelta

from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.planning import planning
from learnnet.planning import services as planning_services
from learnnet.sessions import services
from learnnet.sessions.models import Unavailability
from tests import factories


def _grow(facilitator, networks: int, facilities: int, contacts: int) -> list:
    """Networks whose members each have contacts, an unavailable period and an upcoming
    session to host."""
    made = []
    for n in range(networks):
        net = factories.network(facilitators=[facilitator], name=f"Net {n} {facilities}")
        for f in range(facilities):
            fac = factories.facility()
            factories.member(net, fac)
            for _ in range(contacts):
                factories.contact(fac)
            start = utcnow().date() + timedelta(days=10 + f)
            db.session.add(Unavailability(facility=fac, starts_on=start, ends_on=start))
            factories.session(net, fac, days_ahead=20 + 7 * f)
        made.append(net)
    db.session.commit()
    return made


def _statements(count_queries, work) -> int:
    before = count_queries.count
    work()
    return count_queries.count - before


def _costs(count_queries, networks: list) -> dict[str, int]:
    first = networks[0]
    for net in networks:  # loaded before counting: the callers have them at hand
        assert net.timezone and net.slug
    today = utcnow().date()
    return {
        "loader": _statements(
            count_queries, lambda: planning_services.members_by_network([n.id for n in networks])
        ),
        "planner": _statements(count_queries, lambda: planning_services.planner_members(first)),
        "tally": _statements(count_queries, lambda: services.hosting_tally(first, today)),
        "conflicts": _statements(count_queries, lambda: planning.conflicts_for_networks(networks)),
    }


def test_member_facts_cost_the_same_statements_for_any_number_of_members(
    app, facilitator, count_queries
):
    small = _costs(count_queries, _grow(facilitator, networks=1, facilities=2, contacts=1))
    large = _costs(count_queries, _grow(facilitator, networks=4, facilities=15, contacts=3))
    assert large == small, (small, large)
    assert small["loader"] == 3, small  # memberships, contact persons, unavailable periods


def test_one_member_per_facility_with_its_current_period_and_its_facts(app, facilitator):
    net, other = _grow(facilitator, networks=2, facilities=2, contacts=1)
    back = factories.facility(name="Terug")  # left, and joined again
    factories.member(net, back, joined_on=date(2024, 9, 1), left_on=date(2025, 6, 30))
    factories.member(net, back, joined_on=date(2026, 1, 5))
    gone = factories.facility(name="Weg", willing_to_host=False)  # left for good
    factories.member(net, gone, joined_on=date(2024, 9, 1), left_on=date(2025, 6, 30))
    factories.contact(gone, active=False)
    db.session.commit()
    found = planning_services.members_by_network([net.id, other.id])
    mine = found[net.id]
    assert set(mine) == {m.facility_id for m in net.memberships}
    assert (mine[back.id].joined_on, mine[back.id].left_on) == (date(2026, 1, 5), None)
    assert not mine[back.id].has_contact and not mine[gone.id].has_contact
    assert mine[gone.id].left_on == date(2025, 6, 30) and not mine[gone.id].willing
    host = net.memberships[0].facility_id
    assert mine[host].has_contact and len(mine[host].unavailable) == 1
    assert set(found[other.id]).isdisjoint(mine)
    assert planning_services.planner_members(net) == list(mine.values())
    only = planning_services.members_by_network([net.id, other.id], [back.id])
    assert only == {net.id: {back.id: mine[back.id]}}
