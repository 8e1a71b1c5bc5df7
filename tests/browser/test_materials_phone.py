"""Materials at 375 px: the facilitator adds a photo on the session page (refused until
the box about the children is ticked), the member finds it on their page and opens it
without any EXIF left; nothing scrolls sideways."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import material_files as files
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in
from tests.browser.test_phone_pages import SLUG, member_token

pytestmark = pytest.mark.browser


def next_session_id(live) -> int:
    from learnnet.extensions import db
    from learnnet.models import utcnow
    from learnnet.networks.models import Network
    from learnnet.sessions.models import Session

    with live.app.app_context():
        network = db.session.scalar(db.select(Network).where(Network.slug == SLUG))
        ident = db.session.scalar(
            db.select(Session.id)
            .where(Session.network_id == network.id, Session.starts_at > utcnow())
            .order_by(Session.starts_at)
            .limit(1)
        )
        db.session.remove()
    return ident


def test_a_photo_goes_from_the_session_page_to_the_member_without_exif(
    live, page_factory, tmp_path
):
    photo = tmp_path / "speelhoek.jpg"
    photo.write_bytes(files.photo(size=(300, 200), gps=True))
    session_id = next_session_id(live)
    page = page_factory(PHONE)
    log_in(page, live.url)
    page.goto(f"{live.url}/sessions/{session_id}#materials")
    add = page.locator("form.material-add")
    add.get_by_label("Bestand toevoegen").set_input_files(str(photo))
    add.get_by_role("button", name="Toevoegen", exact=True).click()
    # Not ticked: the form again, the reason next to the box.
    page.wait_for_url(f"**/sessions/{session_id}/materials")
    assert "geen kind herkenbaar" in page.inner_text("#photo_confirmed-error")
    assert no_horizontal_scroll(page)
    screenshot(page, "materials-photo-refused-phone")
    page.get_by_label("Bestand", exact=True).set_input_files(str(photo))
    page.get_by_label("Foto: er is geen kind herkenbaar op", exact=False).check()
    page.get_by_role("button", name="Toevoegen", exact=True).click()
    page.wait_for_url(f"**/sessions/{session_id}#materials")
    assert "speelhoek.jpg" in page.inner_text("#materials")

    member = page_factory(PHONE)
    member.goto(f"{live.url}/m/{member_token(live)}#materials")
    assert no_horizontal_scroll(member)
    screenshot(member, "materials-member-phone")
    link = member.locator("#materials a", has_text="speelhoek.jpg")
    response = member.request.get(live.url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.body())) as image:
        assert len(image.getexif()) == 0 and image.size == (300, 200)
