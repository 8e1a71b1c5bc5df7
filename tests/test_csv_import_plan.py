"""The import's plan and bulk writes against the write-then-rollback dry run they replaced.

The preview used to run the whole import through the ORM and roll it back; the confirm
ran it again and committed. That code is kept here, frozen, as the oracle: on varied
files (new facilities, updates, facilities found elsewhere, contacts matched by email and
by name, files with fewer columns, re-imports) the plan must count the same and the
import must leave the same rows and the same audit events.
"""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learnnet.audit import trail
from learnnet.audit.models import AuditEvent
from learnnet.calendar.models import CONTACT, FACILITY, FeedStamp
from learnnet.extensions import db
from learnnet.networks import csvio, services
from learnnet.networks.models import Contact, Facility, Membership, MembershipRequest, Network
from learnnet.networks.services import ImportPlan
from learnnet.networks.views import csv_messages
from tests import factories

TODAY = date(2026, 3, 2)


# --- the oracle: the former apply_import, unchanged but for its name and for the facilities
# of other networks, which are asked to join (issue 19) -------------------------------------


def _of_others(facility: Facility, actor: Any) -> bool:
    """The facility is or was in a network the actor does not facilitate."""
    return not actor.is_admin and any(
        actor not in m.network.facilitators for m in facility.memberships
    )


def dry_run(
    network: Network,
    facilities: list[csvio.FacilityRow],
    today: date,
    columns: frozenset[str],
    snapshot_before_rollback: list[dict[str, list[str]]],
    actor: Any,
) -> ImportPlan:
    """Everything through the ORM, flushed (the listeners write the trail), rolled back."""
    plan = ImportPlan()
    keys = [(f.key, f.postcode) for f in facilities]
    existing = {
        (f.name_key, f.postcode): f
        for f in db.session.scalars(
            select(Facility)
            .where(Facility.name_key.in_({k for k, _ in keys}))
            .options(selectinload(Facility.contacts), selectinload(Facility.memberships))
        )
    }
    for row in facilities:
        values = services._facility_values(row)
        facility = existing.get((row.key, row.postcode))
        is_member = facility is not None and any(
            m.network_id == network.id and m.left_on is None for m in facility.memberships
        )
        if facility is None:
            facility = Facility(**values)
            db.session.add(facility)
            plan.new_facilities += 1
        elif not is_member and _of_others(facility, actor):
            asked = db.session.scalar(
                select(MembershipRequest).where(
                    MembershipRequest.network_id == network.id,
                    MembershipRequest.facility_id == facility.id,
                    MembershipRequest.status == "pending",
                )
            )
            if asked is None:
                db.session.add(
                    MembershipRequest(
                        network=network,
                        facility=facility,
                        joined_on=today,
                        requested_by_id=actor.id,
                    )
                )
                db.session.flush()
                plan.requested.append(facility.name)
            continue
        elif not is_member:
            facility.memberships.append(Membership(network=network, joined_on=today))
            plan.new_members += 1
            plan.elsewhere.append(facility.name)
            continue
        else:
            update = {"name": values["name"]} | {
                attr: values[attr]
                for col, attr in services._FACILITY_COLUMNS.items()
                if col in columns
            }
            changed = any(getattr(facility, k) != v for k, v in update.items())
            for key, value in update.items():
                setattr(facility, key, value)
            plan.updated_facilities += int(changed)
        is_member = any(
            m.network_id == network.id and m.left_on is None for m in facility.memberships
        )
        if not is_member:
            facility.memberships.append(Membership(network=network, joined_on=today))
            plan.new_members += 1
        by_email = {c.email: c for c in facility.contacts if c.email}
        by_name = {c.name.casefold(): c for c in facility.contacts if not c.email}
        for person in row.contacts:
            contact = (
                by_email.get(person.email) if person.email else by_name.get(person.name.casefold())
            )
            values = {
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "function": person.function,
                "preferred_language": person.language,
                "share_details": person.share,
                "active": True,
            }
            if contact is None:
                facility.contacts.append(Contact(**values))
                plan.new_contacts += 1
            else:
                update = {"name": values["name"]} | {
                    attr: values[attr]
                    for col, attr in services._CONTACT_COLUMNS.items()
                    if col in columns
                }
                changed = any(getattr(contact, k) != v for k, v in update.items())
                for key, value in update.items():
                    setattr(contact, key, value)
                plan.updated_contacts += int(changed)
    db.session.flush()
    snapshot_before_rollback.append(snapshot())
    db.session.rollback()
    return plan


# --- what an import leaves behind, without ids (PostgreSQL does not reuse them) --------------


def _line(*values: Any) -> str:
    return json.dumps(values, default=str, sort_keys=True)


def snapshot() -> dict[str, list[str]]:
    """Facilities, memberships, contacts and audit events, by natural keys, sorted."""
    facility_rows = list(db.session.execute(select(Facility.__table__)).mappings())
    fkey = {f["id"]: f"{f['name_key']}|{f['postcode']}" for f in facility_rows}
    membership_rows = list(db.session.execute(select(Membership.__table__)).mappings())
    mkey = {m["id"]: f"{m['network_id']}|{fkey[m['facility_id']]}" for m in membership_rows}
    contact_rows = list(db.session.execute(select(Contact.__table__)).mappings())
    ckey = {c["id"]: f"{fkey[c['facility_id']]}|{c['email']}|{c['name']}" for c in contact_rows}
    request_rows = list(db.session.execute(select(MembershipRequest.__table__)).mappings())
    rkey = {r["id"]: f"{r['network_id']}|{fkey[r['facility_id']]}" for r in request_rows}
    keys = {"facility": fkey, "membership": mkey, "contact": ckey, "membership_request": rkey}
    skip = {"id", "created_at", "updated_at"}

    def plain(row: Any) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k not in skip}
        if "facility_id" in out:
            out["facility_id"] = fkey[out["facility_id"]]
        return out

    events = []
    for e in db.session.scalars(select(AuditEvent)):
        changes = dict(e.changes)
        if "facility_id" in changes:
            old, new = changes["facility_id"]
            changes["facility_id"] = [fkey.get(old), fkey.get(new)]
        events.append(
            _line(
                e.entity,
                e.action,
                keys.get(e.entity, {}).get(e.entity_id, e.entity_id),
                fkey.get(e.facility_id) if e.facility_id else None,
                e.user_id,
                e.contact_id,
                e.actor_name,
                changes,
            )
        )
    return {
        "facility": sorted(_line(plain(r)) for r in facility_rows),
        "membership": sorted(_line(plain(r)) for r in membership_rows),
        "contact": sorted(_line(plain(r)) for r in contact_rows),
        "request": sorted(_line(plain(r)) for r in request_rows),
        "audit": sorted(events),
    }


def parse(text: str) -> csvio.ParsedFile:
    parsed = csvio.parse(text.encode("utf-8"), csv_messages())
    assert parsed.valid, [r.errors for r in parsed.rows if r.errors]
    return parsed


def import_both_ways(app: Flask, network: Network, actor: Any, text: str) -> ImportPlan:
    """The oracle's plan and rows, then the new plan and import: all must agree."""
    with app.test_request_context():
        parsed = parse(text)
        trail.set_actor(actor)
        try:
            db.session.expire_all()
            oracle: list[dict[str, list[str]]] = []
            expected = dry_run(network, parsed.facilities, TODAY, parsed.columns, oracle, actor)
            db.session.expire_all()
            before = snapshot()
            plan = services.plan_import(network, parsed.facilities, parsed.columns, actor=actor)
            assert plan == expected
            assert snapshot() == before  # the plan wrote nothing
            done = services.apply_import(
                network, parsed.facilities, TODAY, parsed.columns, actor=actor
            )
            assert done == expected
            after = snapshot()
            for part in ("facility", "membership", "contact", "request", "audit"):
                assert after[part] == oracle[0][part], part
        finally:
            g.pop("audit_actor", None)
    return expected


# --- the register the files are imported into ----------------------------------------------


HEADER_ALL = (
    "facility_name;street;postcode;city;phone;email;website;room_capacity;willing_to_host;"
    "accessibility;parking;contact_name;contact_email;contact_phone;contact_function;"
    "contact_language;contact_share"
)


@pytest.fixture
def register(app: Flask, facilitator: Any) -> dict[str, Any]:
    """Our network with a member and its people; a facility of another network, a former
    member, one without a network."""
    ours = factories.network(facilitators=[facilitator], name="Ons netwerk")
    theirs = factories.network(facilitators=[factories.user()], name="Hun netwerk")
    member = factories.facility(name="KDV De Zonnebloem", phone="09 111 11 11")
    factories.member(ours, member)
    factories.contact(member, name="Sofie Claes", email="sofie@example.org", phone="0470 1")
    db.session.add(Contact(facility=member, name="Jan Peeters", email=None, function="Kok"))
    db.session.add(Contact(facility=member, name="Lies Leeg", email="", function=""))
    factories.contact(member, name="Oud Collega", email="oud@example.org", active=False)
    elsewhere = factories.facility(name="Kinderopvang Elders", postcode="9050", phone="09 2")
    factories.member(theirs, elsewhere)
    factories.contact(elsewhere, name="Greet Elders", email="greet@example.org")
    former = factories.facility(name="Crèche Vroeger", postcode="9040")
    factories.member(ours, former, left_on=date(2025, 12, 31))
    factories.facility(name="Opvang Zonder Netwerk", postcode="9030")
    # In another network of our own facilitator: joins at once.
    mine_too = factories.network(facilitators=[facilitator], name="Mijn tweede netwerk")
    also_mine = factories.facility(name="Crèche Kleine Stapjes", postcode="9000")
    factories.member(mine_too, also_mine)
    factories.contact(also_mine, name="Carla", email="carla@example.org")
    db.session.commit()
    return {"network": ours, "member": member, "elsewhere": elsewhere, "actor": facilitator}


def test_new_updated_elsewhere_and_contacts_by_email_and_by_name(app, register):
    text = "\n".join(
        [
            HEADER_ALL,
            # the member: a new phone; Sofie by email, JAN by name (case differs), new people
            "kdv de zonnebloem;Kerkstraat 1;9000;Gent;09 999 99 99;;;12;ja;;;"
            "Sofie Claes;SOFIE@example.org;0470 2;Directeur;nl;ja",
            "kdv de zonnebloem;Kerkstraat 1;9000;Gent;09 999 99 99;;;12;ja;;;"
            "JAN PEETERS;;;Kok;en;nee",
            "kdv de zonnebloem;Kerkstraat 1;9000;Gent;09 999 99 99;;;12;ja;;;Marie Nieuw;;;;nl;nee",
            "kdv de zonnebloem;Kerkstraat 1;9000;Gent;09 999 99 99;;;12;ja;;;"
            "Oud Collega;oud@example.org;;;nl;nee",
            "kdv de zonnebloem;Kerkstraat 1;9000;Gent;09 999 99 99;;;12;ja;;;Lies Leeg;;;;nl;nee",
            # found elsewhere, a former member, one without a network: they join, untouched
            "Kinderopvang Elders;;9050;Gent;09 3;;;;;;;Greet Elders;greet@example.org;9;;nl;ja",
            "Crèche Vroeger;;9040;Gent;;;;;;;;Nieuwe Persoon;np@example.org;;;nl;nee",
            "Opvang Zonder Netwerk;;9030;Gent;;;;;;;;;;;;;",
            # new facilities, with and without people
            "Kinderopvang Nieuw;Dorp 1;9000;Gent;;info@nieuw.be;https://nieuw.be;8;nee;lift;"
            "achteraan;Ann Nieuw;ann@nieuw.be;0470;Leiding;en;ja",
            "Kinderopvang Nieuw;Dorp 1;9000;Gent;;info@nieuw.be;https://nieuw.be;8;nee;lift;"
            "achteraan;Bert Nieuw;;;;nl;nee",
            "Crèche Leeg;;9000;Gent;;;;;;;;;;;;;",
        ]
    )
    network = register["network"]
    plan = import_both_ways(app, network, register["actor"], text)
    assert plan == ImportPlan(
        new_facilities=2,
        updated_facilities=1,
        new_members=4,
        new_contacts=3,
        updated_contacts=3,  # Sofie, Jan, Lies (stored email "" becomes none)
        elsewhere=["Crèche Vroeger", "Opvang Zonder Netwerk"],
        # Of a network the importer does not facilitate: asked, not added (issue 19).
        requested=["Kinderopvang Elders"],
    )
    db.session.expire_all()
    elsewhere = db.session.get(Facility, register["elsewhere"].id)
    assert elsewhere.phone == "09 2" and [c.name for c in elsewhere.contacts] == ["Greet Elders"]
    assert not any(m.network_id == network.id for m in elsewhere.memberships)
    # Existing rows go through the ORM: their feeds' stamps move as for any change.
    stamps = set(db.session.execute(select(FeedStamp.kind, FeedStamp.owner_id)))
    former = db.session.scalar(select(Facility).where(Facility.postcode == "9040"))
    assert (FACILITY, former.id) in stamps
    sofie = db.session.scalar(select(Contact).where(Contact.email == "sofie@example.org"))
    assert (CONTACT, sofie.id) in stamps
    created = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "contact", AuditEvent.action == "create")
    ).all()
    ann = next(e for e in created if e.changes.get("name") == [None, "Ann Nieuw"])
    assert ann.user_id == register["actor"].id and ann.actor_name == register["actor"].name
    assert ann.changes["email"] == [None, "ann@nieuw.be"]

    # The elsewhere rows are members now: their details and people follow on a re-import;
    # the facility that was asked is not asked twice.
    second = import_both_ways(app, network, register["actor"], text)
    assert second.new_facilities == second.new_members == 0 and not second.elsewhere
    assert not second.requested
    assert import_both_ways(app, network, register["actor"], text) == ImportPlan()


def test_reimporting_a_file_of_members_changes_nothing(app, register):
    text = "\n".join(
        [
            "facility_name;postcode;city;contact_name;contact_email;contact_phone",
            "Kinderopvang A;9000;Gent;Ann;ann@a.be;0470",
            "Kinderopvang A;9000;Gent;Bart;;",
            "Kinderopvang B;9000;Gent;;;",
        ]
    )
    network = register["network"]
    assert import_both_ways(app, network, register["actor"], text).new_facilities == 2
    assert import_both_ways(app, network, register["actor"], text) == ImportPlan()


def test_fewer_columns_keep_the_rest(app, register):
    text = "facility_name;postcode;city;contact_name\nKDV De Zonnebloem;9000;Gent;Sofie Claes\n"
    plan = import_both_ways(app, register["network"], register["actor"], text)
    # Sofie has an email address, the file none: a new person, as before.
    assert plan == ImportPlan(new_contacts=1)
    db.session.expire_all()
    assert db.session.get(Facility, register["member"].id).phone == "09 111 11 11"


def test_without_executemany_returning_rows_go_in_one_by_one(app, register, monkeypatch):
    """The generic path, for a database driver that cannot return ids of a bulk insert."""
    monkeypatch.setattr(services, "_bulk_returning", lambda: False)
    text = "\n".join(
        [
            "facility_name;postcode;city;contact_name;contact_email",
            "Kinderopvang A;9000;Gent;Ann;ann@a.be",
            "Kinderopvang A;9000;Gent;Bart;",
            "KDV De Zonnebloem;9000;Gent;Nieuwe Collega;nc@example.org",
            "Kinderopvang Elders;9050;Gent;;",
        ]
    )
    plan = import_both_ways(app, register["network"], register["actor"], text)
    assert (plan.new_facilities, plan.new_members, plan.new_contacts) == (1, 1, 3)
    assert plan.requested == ["Kinderopvang Elders"]


# --- random files ------------------------------------------------------------------------------

_FACILITIES = [
    ("KDV De Zonnebloem", "9000"),
    ("kdv  de zonnebloem", "9000"),
    ("Kinderopvang Elders", "9050"),
    ("Crèche Vroeger", "9040"),
    ("Opvang Zonder Netwerk", "9030"),
    ("Kinderopvang Nieuw", "9000"),
    ("Kinderopvang Nieuw", "9100"),
    ("Crèche Kleine Stapjes", "9000"),
]
_PEOPLE = [
    ("Sofie Claes", "sofie@example.org"),
    ("sofie claes", ""),
    ("Jan Peeters", ""),
    ("JAN PEETERS", "jan@example.org"),
    ("Lies Leeg", ""),
    ("Oud Collega", "oud@example.org"),
    ("Greet Elders", "greet@example.org"),
    ("Ann Nieuw", "ann@example.org"),
    ("Bert Nieuw", ""),
    ("Carla", "carla@example.org"),
]
_OPTIONAL = [c for c in csvio.COLUMNS if c not in csvio.REQUIRED_COLUMNS]


def random_file(rng: random.Random) -> str:
    """A valid file: some of the optional columns, facilities and people from small pools
    (so that many rows match stored ones, some with the stored values)."""
    columns = list(csvio.REQUIRED_COLUMNS) + sorted(rng.sample(_OPTIONAL, rng.randint(0, 14)))
    if any(c.startswith("contact_") for c in columns) and "contact_name" not in columns:
        columns.append("contact_name")
    lines = [";".join(columns)]
    seen_facilities: set[tuple[str, str]] = set()
    for name, postcode in rng.sample(_FACILITIES, rng.randint(1, len(_FACILITIES))):
        ident = (csvio.name_key(name), postcode)
        if ident in seen_facilities:
            continue
        seen_facilities.add(ident)
        facility = {
            "facility_name": name,
            "postcode": postcode,
            "city": "Gent",
            "street": rng.choice(["Kerkstraat 1", "Dorp 2", ""]),
            "phone": rng.choice(["09 111 11 11", "09 2", ""]),
            "email": rng.choice(["", "info@example.org"]),
            "website": rng.choice(["", "https://example.org"]),
            "room_capacity": rng.choice(["12", "20", ""]),
            "willing_to_host": rng.choice(["ja", "nee", ""]),
            "accessibility": rng.choice(["", "lift"]),
            "parking": rng.choice(["", "plein"]),
        }
        people = []
        if "contact_name" in columns:
            seen_people: set[str] = set()
            for person, email in rng.sample(_PEOPLE, rng.randint(0, 4)):
                email = email if "contact_email" in columns else ""
                key = email or "name:" + person.casefold()
                if key in seen_people:
                    continue
                seen_people.add(key)
                people.append(
                    {
                        "contact_name": person,
                        "contact_email": email,
                        "contact_phone": rng.choice(["", "0470 1", "0470 2"]),
                        "contact_function": rng.choice(["", "Kok"]),
                        "contact_language": rng.choice(["nl", "en", ""]),
                        "contact_share": rng.choice(["ja", "nee", ""]),
                    }
                )
        for person in people or [{}]:
            values = facility | person
            lines.append(";".join(values.get(c, "") for c in columns))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_random_files_agree_with_the_dry_run(app, register, seed):
    rng = random.Random(seed)
    network = register["network"]
    for _round in range(3):
        import_both_ways(app, network, register["actor"], random_file(rng))
