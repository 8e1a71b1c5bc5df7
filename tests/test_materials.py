"""Materials through the web: facilitators add files to a session or a werkjaar, members
see and add them through their personal link; upload fuzzing; access on every request;
the stores, the purge command, the trail and a person's data."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.learning import material_services as services
from learnnet.learning.material_models import Material, MaterialBlob
from learnnet.learning.material_store import DirectoryStore, store_for
from learnnet.rsvp.contacts import ensure_link, token_of
from tests import factories
from tests import material_files as files
from tests.conftest import login

LIMIT_MB = 1


@pytest.fixture(params=["database", "directory"])
def store_kind(request):
    return request.param


@pytest.fixture
def mapp(app_factory, tmp_path, store_kind):
    """An app with a 1 MB limit, keeping files in the database or in a directory."""
    extra = {"MATERIALS_MAX_MB": LIMIT_MB}
    if store_kind == "directory":
        extra["MATERIALS_DIR"] = str(tmp_path / "materials")
    app = app_factory(**extra)
    with app.app_context():
        yield app


@pytest.fixture
def world(mapp):
    """A network with a session, a member contact with a link, and an outsider's link."""
    facilitator = factories.user(email="an@example.org", name="An Peeters")
    network = factories.network(facilitators=[facilitator], name="Lerend netwerk Gent")
    host = factories.facility(name="KDV De Zonnebloem")
    factories.member(network, host)
    member = factories.contact(host, name="Sofie Claes")
    session = factories.session(network, host)
    other = factories.network(facilitators=[factories.user(email="o@example.org")], name="Ander")
    outside = factories.facility(name="Kinderopvang Elders")
    factories.member(other, outside)
    stranger = factories.contact(outside, name="Bart Elders")
    db.session.commit()
    tokens = {c.id: token_of(ensure_link(c)) for c in (member, stranger)}
    db.session.commit()
    client = mapp.test_client()
    assert login(client, facilitator.email).status_code == 302
    return {
        "client": client,
        "facilitator": facilitator,
        "network": network,
        "session": session,
        "host": host,
        "member": member,
        "member_token": tokens[member.id],
        "stranger_token": tokens[stranger.id],
    }


def upload(client, url, data, name, **form):
    """A form post with a file, encoded in memory (the test client would spool a large
    body to a temporary file it never closes)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(form)
    values["file"] = FileStorage(io.BytesIO(data), filename=name)
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def counts():
    return (
        db.session.scalar(select(func.count(Material.id))),
        db.session.scalar(select(func.count()).select_from(MaterialBlob)),
    )


def stored_files(app) -> list[Path]:
    root = app.config.get("MATERIALS_DIR")
    return [p for p in Path(root).rglob("*") if p.is_file()] if root else []


def test_a_facilitators_file_reaches_the_members_and_no_one_else(mapp, world):
    client, session = world["client"], world["session"]
    response = upload(client, f"/sessions/{session.id}/materials", files.pdf(), "Jaarplan.pdf")
    assert response.status_code == 303
    assert response.location.endswith(f"/sessions/{session.id}#materials")
    material = db.session.scalar(select(Material))
    assert (material.name, material.kind, material.werkjaar) == (
        "Jaarplan.pdf",
        "pdf",
        services.session_werkjaar(session),
    )
    assert material.keep_until == date(services.session_werkjaar(session) + 2, 8, 31)
    assert len(material.public_id) >= 32
    assert "Jaarplan.pdf" in client.get(f"/sessions/{session.id}").get_data(as_text=True)

    # The facilitator's download, with safe headers.
    own = client.get(f"/networks/{world['network'].slug}/materials/{material.public_id}")
    assert own.status_code == 200 and own.data == files.pdf()
    assert own.mimetype == "application/pdf"
    assert own.headers["Content-Disposition"].startswith("attachment")
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert own.headers["Cache-Control"] == "private, no-store"

    # The member: on their page, and the file through their link.
    anonymous = mapp.test_client()
    page = anonymous.get(f"/m/{world['member_token']}").get_data(as_text=True)
    assert "Jaarplan.pdf" in page
    link = f"/m/{world['member_token']}/materials/{material.public_id}"
    assert link in page
    got = anonymous.get(link)
    assert got.status_code == 200 and got.data == files.pdf()
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in got.headers["Cache-Control"]

    # Another network's member: not found, not on their page; nor a made-up id.
    assert (
        anonymous.get(f"/m/{world['stranger_token']}/materials/{material.public_id}").status_code
        == 404
    )
    assert "Jaarplan" not in anonymous.get(f"/m/{world['stranger_token']}").get_data(as_text=True)
    made_up = ("y" if material.public_id[0] == "x" else "x") + material.public_id[1:]
    assert anonymous.get(f"/m/{world['member_token']}/materials/{made_up}").status_code == 404
    # Another network's facilitator, through their own network's URL: not found.
    other = db.session.scalar(
        select(type(world["network"])).where(type(world["network"]).name == "Ander")
    )
    outsider = mapp.test_client()
    login(outsider, "o@example.org")
    assert outsider.get(f"/networks/{other.slug}/materials/{material.public_id}").status_code == 404

    # Access is checked on every request: once the facility leaves, the link stops.
    membership = world["host"].memberships[0]
    membership.left_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert anonymous.get(link).status_code == 404

    # The trail recorded who added it.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "material"))
    assert event.action == "create" and event.actor_name == "An Peeters"
    assert event.changes["name"][1] == "Jaarplan.pdf" and "public_id" not in event.changes


FUZZ = [
    ("exe renamed pdf", files.exe(), "factuur.pdf", {}, "file", "wat de naam ook zegt"),
    ("empty", b"", "leeg.pdf", {}, "file", "leeg (0 bytes)"),
    (
        "over the limit",
        files.pdf() + b"%" * (LIMIT_MB * 1024 * 1024),
        "groot.pdf",
        {},
        "file",
        "hoogstens 1 MB",
    ),
    ("zip bomb", files.zip_bomb_docx(), "verslag.docx", {}, "file", "pakt uit tot veel meer"),
    (
        "macros",
        files.ooxml("docx", extra={"word/vbaProject.bin": b"x"}),
        "m.docx",
        {},
        "file",
        "met macro’s",
    ),
    (
        "photo unconfirmed",
        files.photo(gps=True),
        "foto.jpg",
        {},
        "photo_confirmed",
        "geen kind herkenbaar",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "name", "form", "field", "message"), FUZZ, ids=[c[0] for c in FUZZ]
)
def test_upload_fuzzing_gives_a_message_next_to_the_field(
    mapp, world, case, data, name, form, field, message
):
    """Each refused upload: the form again (400) with the reason beside the field and in
    the summary, never a 500, and nothing written (no row, no bytes, no file)."""
    session = world["session"]
    for url, client in (
        (f"/sessions/{session.id}/materials", world["client"]),
        (f"/m/{world['member_token']}/materials", mapp.test_client()),
    ):
        extra = dict(form)
        if "/m/" in url:
            extra["session"] = str(session.id)
        response = upload(client, url, data, name, **extra)
        assert response.status_code == 400, (case, url)
        html = response.get_data(as_text=True)
        error = html.split(f'id="{field}-error"', 1)
        assert len(error) == 2, (case, url)
        assert message in error[1].split("</p>", 1)[0], (case, url)
        assert 'class="error-summary"' in html
        assert counts() == (0, 0)
        assert stored_files(mapp) == []


def test_far_over_the_limit_is_refused_before_it_is_read(mapp, world):
    session = world["session"]
    big = files.pdf() + b"%" * (LIMIT_MB * 1024 * 1024 * 2 + 10)
    response = upload(world["client"], f"/sessions/{session.id}/materials", big, "groot.pdf")
    assert response.status_code == 303
    assert response.location.endswith(f"/sessions/{session.id}/materials")
    page = world["client"].get(response.location).get_data(as_text=True)
    assert "te groot: hoogstens 1 MB" in page
    assert counts() == (0, 0) and stored_files(mapp) == []


def test_a_photo_is_kept_upright_without_exif(mapp, world):
    session = world["session"]
    response = upload(
        world["client"],
        f"/sessions/{session.id}/materials",
        files.photo(gps=True, orientation=6),
        "IMG_2041.JPG",
        photo_confirmed="y",
    )
    assert response.status_code == 303
    material = db.session.scalar(select(Material))
    assert material.kind == "jpeg" and material.photo_confirmed and material.name == "IMG_2041.jpg"
    got = mapp.test_client().get(f"/m/{world['member_token']}/materials/{material.public_id}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert got.headers["Content-Disposition"].startswith("inline")  # a photo opens
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    with Image.open(io.BytesIO(got.data)) as image:
        assert len(image.getexif()) == 0 and "exif" not in image.info
        assert image.size == (20, 40)
    assert b"Telefoonmaker" not in got.data


def test_names_with_paths_and_control_characters_are_cleaned(mapp, world):
    session = world["session"]
    # (A browser sends a line break in a file name as %0D%0A; the rules test takes raw ones.)
    name = "..\\..\\C:/Users/ilse/\x07plan\tvoor\u202e\x1b 2027.pdf"
    response = upload(world["client"], f"/sessions/{session.id}/materials", files.pdf(), name)
    assert response.status_code == 303
    material = db.session.scalar(select(Material))
    assert material.name == "plan voor 2027.pdf"
    got = world["client"].get(f"/networks/{world['network'].slug}/materials/{material.public_id}")
    disposition = got.headers["Content-Disposition"]
    assert "/" not in disposition and "\\" not in disposition and "\r" not in disposition
    assert "plan voor 2027.pdf" in disposition or "plan%20voor%202027.pdf" in disposition


def test_a_member_shares_a_file_and_deletes_only_their_own(mapp, world):
    token, session = world["member_token"], world["session"]
    member = mapp.test_client()
    form = member.get(f"/m/{token}/materials?session={session.id}")
    assert form.status_code == 200 and f'selected value="{session.id}"' in form.get_data(
        as_text=True
    )
    response = upload(
        member, f"/m/{token}/materials", files.odf("odt"), "werkblad.odt", session=str(session.id)
    )
    assert response.status_code == 303 and response.location.endswith(f"/m/{token}#materials")
    theirs = db.session.scalar(select(Material))
    assert theirs.uploaded_by_contact_id == world["member"].id and theirs.session_id == session.id
    upload(world["client"], f"/sessions/{session.id}/materials", files.pdf(), "van-an.pdf")
    facilitators = db.session.scalar(select(Material).where(Material.name == "van-an.pdf"))
    # The facilitator sees the member's file on the session page.
    assert "werkblad.odt" in world["client"].get(f"/sessions/{session.id}").get_data(as_text=True)
    # The member cannot delete the facilitator's file.
    refused = member.post(f"/m/{token}/materials/{facilitators.public_id}/remove")
    assert refused.status_code == 303
    assert db.session.get(Material, facilitators.id) is not None
    # Their own: gone, bytes and all.
    assert member.post(f"/m/{token}/materials/{theirs.public_id}/remove").status_code == 303
    db.session.expire_all()
    assert db.session.get(Material, theirs.id) is None
    assert counts() == (1, 0 if mapp.config.get("MATERIALS_DIR") else 1)
    assert len(stored_files(mapp)) == (1 if mapp.config.get("MATERIALS_DIR") else 0)
    # A stranger cannot add to this network's session.
    stranger = upload(
        mapp.test_client(),
        f"/m/{world['stranger_token']}/materials",
        files.pdf(),
        "x.pdf",
        session=str(session.id),
    )
    assert stranger.status_code == 400 and counts()[0] == 1


def test_facilitator_deletes_and_werkjaar_files(mapp, world):
    client, network = world["client"], world["network"]
    page = client.get(f"/networks/{network.slug}/materials")
    assert page.status_code == 200
    start = services.rules.werkjaar_start(date.today())
    response = upload(
        client,
        f"/networks/{network.slug}/materials",
        files.ooxml("xlsx"),
        "leerdoelen.xlsx",
        werkjaar=str(start + 1),
    )
    assert response.status_code == 303
    material = db.session.scalar(select(Material))
    assert material.session_id is None and material.werkjaar == start + 1
    assert material.keep_until == date(start + 3, 8, 31)
    member_page = mapp.test_client().get(f"/m/{world['member_token']}").get_data(as_text=True)
    assert "leerdoelen.xlsx" in member_page and f"{start + 1}-{start + 2}" in member_page
    gone = client.post(f"/networks/{network.slug}/materials/{material.public_id}/delete")
    assert gone.status_code == 303
    assert counts() == (0, 0) and stored_files(mapp) == []
    # A second tap on the deleted file only says so.
    again = client.post(f"/networks/{network.slug}/materials/{material.public_id}/delete")
    assert again.status_code == 303
    deleted = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "material", AuditEvent.action == "delete")
    )
    assert deleted is not None and deleted.actor_name == "An Peeters"


def test_purge_deletes_expired_files_and_stray_bytes(mapp, world):
    store = store_for(mapp.config)
    kept = services.add(
        store,
        world["network"],
        files.pdf(),
        "blijft.pdf",
        photo_confirmed=False,
        today=date.today(),
        limit=10**6,
        user=world["facilitator"],
    )
    old = services.add(
        store,
        world["network"],
        files.pdf(),
        "oud.pdf",
        photo_confirmed=False,
        today=date.today(),
        limit=10**6,
        user=world["facilitator"],
    )
    old.keep_until = date.today() - timedelta(days=1)
    store.put("ab" * 20, b"left by a deleted network")
    db.session.commit()
    result = mapp.test_cli_runner().invoke(args=["purge-materials"])
    assert result.exit_code == 0 and "1 materials deleted" in result.output
    db.session.expire_all()
    assert [m.name for m in db.session.scalars(select(Material))] == ["blijft.pdf"]
    assert store.get(kept.storage_key) == files.pdf()
    assert store.get("ab" * 20) is None
    assert len(list(store.stored_keys())) == 1


def test_directory_store_leaves_nothing_half_written(app_factory, tmp_path):
    """A file written in a transaction that rolls back is removed; a delete that rolls
    back keeps its file; a committed delete removes it."""
    app = app_factory(MATERIALS_DIR=str(tmp_path / "m"))
    with app.app_context():
        store = DirectoryStore(tmp_path / "m")
        db.session.execute(select(1))
        store.put("cd" * 20, b"never recorded")
        assert store.get("cd" * 20) == b"never recorded"
        db.session.rollback()
        assert store.get("cd" * 20) is None
        store.put("ef" * 20, b"recorded")
        db.session.commit()
        store.delete("ef" * 20)
        db.session.rollback()
        assert store.get("ef" * 20) == b"recorded"
        store.delete("ef" * 20)
        db.session.commit()
        assert store.get("ef" * 20) is None
        with pytest.raises(ValueError):
            store.put("../../etc/passwd", b"x")


def test_a_persons_export_lists_their_files_and_erasure_removes_them(mapp, world):
    from learnnet.privacy import services as privacy

    store = store_for(mapp.config)
    member = world["member"]
    services.add(
        store,
        world["network"],
        files.photo("PNG"),
        "onze-speelhoek.png",
        photo_confirmed=True,
        today=date.today(),
        limit=10**6,
        session=world["session"],
        contact=member,
    )
    services.add(
        store,
        world["network"],
        files.pdf(),
        "van-an.pdf",
        photo_confirmed=False,
        today=date.today(),
        limit=10**6,
        user=world["facilitator"],
    )
    exported = privacy.export(member)
    assert [m["name"] for m in exported["materials"]] == ["onze-speelhoek.png"]
    assert exported["materials"][0]["kind"] == "png"
    privacy.erase(member)
    db.session.expire_all()
    assert [m.name for m in db.session.scalars(select(Material))] == ["van-an.pdf"]
    assert len(list(store.stored_keys())) == 1
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "material"))
    assert not any("onze-speelhoek" in str(e.changes) for e in trail)
