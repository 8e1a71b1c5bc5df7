"""Materials: add, list, read, delete and purge the files shared with a network.

The rules of what is accepted live in :mod:`learnnet.learning.materials`; where the
bytes go in :mod:`learnnet.learning.material_store`. Each function that writes commits,
and the material's row and its bytes land together or not at all. The actor (an
account, or a contact through their personal link) is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.learning import materials as rules
from learnnet.learning.material_models import Material
from learnnet.learning.material_store import MaterialStore
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import local_date

MiB = 1024 * 1024


def max_bytes(config: Any) -> int:
    """The largest file accepted (``MATERIALS_MAX_MB``, 15 by default)."""
    return int(float(config.get("MATERIALS_MAX_MB") or 15) * MiB)


def session_werkjaar(session: Session) -> int:
    """The werkjaar (its starting year) of a session, by its local date."""
    return rules.werkjaar_start(local_date(session.starts_at, session.network.timezone))


def add(
    store: MaterialStore,
    network: Network,
    data: bytes,
    filename: str,
    *,
    photo_confirmed: bool,
    today: date,
    limit: int,
    session: Session | None = None,
    werkjaar: int | None = None,
    user: Any = None,
    contact: Contact | None = None,
) -> Material:
    """Check ``data`` on its content and keep it for the session (or the werkjaar);
    commits. Raises :class:`rules.Refused` with nothing written.

    A photo is kept re-encoded without metadata, and only when the uploader confirmed
    that no child can be recognised on it or that consent is on file.
    """
    checked = rules.check(data, limit)
    if checked.kind.is_photo and not photo_confirmed:
        raise rules.Refused(rules.PHOTO_CONSENT)
    if session is not None:
        werkjaar = session_werkjaar(session)
    elif werkjaar is None:
        werkjaar = rules.werkjaar_start(today)
    material = Material(
        network_id=network.id,
        session_id=session.id if session is not None else None,
        werkjaar=werkjaar,
        name=rules.clean_name(filename, checked.kind),
        kind=checked.kind.code,
        size=len(checked.data),
        photo_confirmed=bool(photo_confirmed and checked.kind.is_photo),
        keep_until=rules.default_keep_until(today, werkjaar),
        uploaded_by_user_id=user.id if user is not None else None,
        uploaded_by_contact_id=contact.id if contact is not None else None,
    )
    try:
        db.session.add(material)
        db.session.flush()
        store.put(material.storage_key, checked.data)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return material


def kind_of(material: Material) -> rules.Kind:
    return rules.KINDS[material.kind]


def find(network_id: int | None, public_id: str) -> Material | None:
    """The material with this URL id (of this network, when given), or None."""
    query = select(Material).where(Material.public_id == public_id)
    if network_id is not None:
        query = query.where(Material.network_id == network_id)
    return db.session.scalar(query)


def read(store: MaterialStore, material: Material) -> bytes | None:
    return store.get(material.storage_key)


def for_session(session_id: int) -> list[Material]:
    """A session's materials, oldest first (with who added them)."""
    return list(
        db.session.scalars(
            select(Material)
            .where(Material.session_id == session_id)
            .options(
                joinedload(Material.uploaded_by_user), joinedload(Material.uploaded_by_contact)
            )
            .order_by(Material.created_at, Material.id)
        )
    )


def for_werkjaren(network_id: int) -> dict[int, list[Material]]:
    """The network's werkjaar materials (not of a session), newest werkjaar first."""
    rows = db.session.scalars(
        select(Material)
        .where(Material.network_id == network_id, Material.session_id.is_(None))
        .options(joinedload(Material.uploaded_by_user), joinedload(Material.uploaded_by_contact))
        .order_by(Material.werkjaar.desc(), Material.created_at, Material.id)
    )
    found: dict[int, list[Material]] = {}
    for material in rows:
        found.setdefault(material.werkjaar, []).append(material)
    return found


def _member_network_ids(contact: Contact, today: date) -> list[int]:
    from learnnet.rsvp.contacts import member_networks

    if not contact.active:
        return []
    return list(member_networks(contact.facility_id, today))


def visible_to(material: Material, contact: Contact, today: date) -> bool:
    """A contact sees the materials of the networks their facility is a member of today."""
    return material.network_id in _member_network_ids(contact, today)


@dataclass
class NetworkMaterials:
    """What a member sees of one network: its werkjaar files and its sessions' files."""

    network: Network
    werkjaar: list[Material] = field(default_factory=list)
    sessions: list[tuple[Session, list[Material]]] = field(default_factory=list)


def for_contact(contact: Contact, today: date) -> list[NetworkMaterials]:
    """The materials a contact sees, per network: werkjaar files (newest werkjaar first),
    then per session (latest first). One statement for all of them."""
    network_ids = _member_network_ids(contact, today)
    if not network_ids:
        return []
    rows = db.session.scalars(
        select(Material)
        .where(Material.network_id.in_(network_ids))
        .options(
            joinedload(Material.network),
            joinedload(Material.session),
            joinedload(Material.uploaded_by_user),
            joinedload(Material.uploaded_by_contact),
        )
        .order_by(Material.werkjaar.desc(), Material.created_at, Material.id)
    )
    per_network: dict[int, NetworkMaterials] = {}
    per_session: dict[int, dict[int, tuple[Session, list[Material]]]] = {}
    for material in rows:
        entry = per_network.setdefault(material.network_id, NetworkMaterials(material.network))
        if material.session is None:
            entry.werkjaar.append(material)
        else:
            sessions = per_session.setdefault(material.network_id, {})
            sessions.setdefault(material.session.id, (material.session, []))[1].append(material)
    for network_id, sessions in per_session.items():
        per_network[network_id].sessions = sorted(
            sessions.values(), key=lambda pair: pair[0].starts_at, reverse=True
        )
    return sorted(per_network.values(), key=lambda e: e.network.name.casefold())


def upload_sessions(contact: Contact, today: date, now: Any = None) -> list[Session]:
    """The sessions a contact may add a file to: of their networks, not cancelled, from
    90 days ago on (a presentation shown last month, the plan for next time)."""
    network_ids = _member_network_ids(contact, today)
    if not network_ids:
        return []
    since = (now or utcnow()) - timedelta(days=90)
    return list(
        db.session.scalars(
            select(Session)
            .where(
                Session.network_id.in_(network_ids),
                Session.status != CANCELLED,
                Session.starts_at >= since,
            )
            .options(joinedload(Session.network), joinedload(Session.host))
            .order_by(Session.starts_at)
            .limit(40)
        )
    )


def delete_material(store: MaterialStore, material: Material) -> None:
    """Delete the material and its bytes; commits (the trail records it)."""
    store.delete(material.storage_key)
    db.session.delete(material)
    db.session.commit()


def purge(store: MaterialStore, today: date) -> int:
    """Delete the materials whose retention date has passed, and any stored bytes no
    material refers to any more (left by a deleted network); commits. How many went."""
    expired = list(db.session.scalars(select(Material).where(Material.keep_until < today)))
    for material in expired:
        store.delete(material.storage_key)
        db.session.delete(material)
    db.session.flush()
    known = set(db.session.scalars(select(Material.storage_key)))
    for key in [k for k in store.stored_keys() if k not in known]:
        store.delete(key)
    db.session.commit()
    return len(expired)


# --- a person's data ----------------------------------------------------------------------


def uploaded_by(contact: Contact) -> list[Material]:
    return list(
        db.session.scalars(
            select(Material)
            .where(Material.uploaded_by_contact_id == contact.id)
            .options(joinedload(Material.network), joinedload(Material.session))
            .order_by(Material.created_at, Material.id)
        )
    )


def export(contact: Contact) -> list[dict[str, Any]]:
    """The files a contact added, for the export of their data."""
    return [
        {
            "network": m.network.name,
            "session": m.session.starts_at.isoformat() if m.session is not None else None,
            "werkjaar": f"{m.werkjaar}-{m.werkjaar + 1}",
            "name": m.name,
            "kind": m.kind,
            "size": m.size,
            "added_at": m.created_at.isoformat() if m.created_at else None,
            "kept_until": m.keep_until.isoformat(),
        }
        for m in uploaded_by(contact)
    ]


def erase(store: MaterialStore, contact: Contact) -> None:
    """Delete the files a contact added (they may show them, their workplace or their
    colleagues) and empty the trail's record of them; the caller commits."""
    mine: Iterable[Material] = uploaded_by(contact)
    ids = []
    for material in mine:
        ids.append(material.id)
        store.delete(material.storage_key)
        db.session.delete(material)
    db.session.flush()
    if ids:
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.entity == "material", AuditEvent.entity_id.in_(ids))
            .values(changes={})
        )
