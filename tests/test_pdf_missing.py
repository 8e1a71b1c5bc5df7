"""Without Pango (WeasyPrint's system library) the PDF links answer in words, not with a 500.

`make run` installs no system packages (issue 25.8), so on a fresh Mac or a Linux laptop
without root WeasyPrint cannot load Pango. The simulation is the real failure: in a fresh
Python process cffi's dlopen refuses every Pango library, as the dynamic loader does when
it is not installed, so ``import weasyprint`` fails where it would fail there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from learnnet import pdf

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter: WeasyPrint may already be imported (with Pango) in this one.
SCRIPT = r"""
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cffi

real_dlopen = cffi.FFI.dlopen


def dlopen(self, name, *args, **kwargs):
    if "pango" in str(name):  # what the loader says when the package is not installed
        raise OSError(f"cannot load library '{name}': cannot open shared object file")
    return real_dlopen(self, name, *args, **kwargs)


cffi.FFI.dlopen = dlopen

from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.rsvp.contacts import ensure_link, token_of
from tests import factories
from tests.conftest import login, make_app

out, tmp = Path(sys.argv[1]), Path(sys.argv[2])
app = make_app(f"sqlite:///{tmp / 'pdf.sqlite3'}", tmp)
result = {}
with app.app_context():
    try:
        import weasyprint  # noqa: F401
        result["weasyprint"] = "imported"
    except OSError:
        result["weasyprint"] = "OSError"
    user = factories.user(email="an@example.org", name="An Peeters")
    net = factories.network(facilitators=[user], name="Netwerk Zonder Pango")
    facility = factories.facility(name="KDV De Pangolijn")
    factories.member(net, facility)
    sofie = factories.contact(facility, name="Sofie Claes", email="sofie@example.org")
    start = datetime(2025, 10, 7, 17, tzinfo=UTC)
    held = factories.session(
        net, facility, title="Voorlezen", starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.add(
        Attendance(
            session=held, contact=sofie, facility_id=facility.id, person_name=sofie.name,
            facility_name=facility.name, status="present",
        )
    )
    bart = factories.contact(
        facility, name="Bart Peeters", email="bart@example.org", preferred_language="en"
    )
    token = token_of(ensure_link(sofie))
    english = token_of(ensure_link(bart))
    db.session.commit()
    facilitator = app.test_client()
    login(facilitator, "an@example.org")
    member = app.test_client()
    record = f"/networks/{net.slug}/facilities/{facility.id}/jaaroverzicht"
    own = f"/m/{token}/networks/{net.id}/jaaroverzicht"
    certificate = f"/contacts/{sofie.id}/certificate?period=2025-2026"
    for name, client, url in (
        ("certificate", facilitator, certificate + "&format=pdf"),
        ("certificate print", facilitator, certificate),
        ("record", facilitator, record + ".pdf?werkjaar=2025-2026"),
        ("record print", facilitator, record + "?werkjaar=2025-2026"),
        ("own record", member, own + ".pdf?werkjaar=2025-2026"),
        ("english", member, own.replace(token, english) + ".pdf?werkjaar=2025-2026"),
    ):
        response = client.get(url)
        result[name] = [response.status_code, response.get_data(as_text=True)]
out.write_text(json.dumps(result))
"""


@pytest.fixture(scope="module")
def without_pango(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Each PDF link and print page as a server without Pango answers them."""
    tmp = tmp_path_factory.mktemp("nopango")
    out = tmp / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNNET_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), str(tmp)],
        cwd=ROOT,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_simulation_really_stops_weasyprint(without_pango):
    assert without_pango["weasyprint"] == "OSError"


@pytest.mark.parametrize("name", ["certificate", "record", "own record"])
def test_a_pdf_link_says_what_is_missing_with_the_command_and_the_print_version(
    without_pango, name
):
    status, html = without_pango[name]
    assert status == 503, html[-2000:]
    assert "Pango" in html and "Geen PDF op deze server" in html
    command = pdf.this_system_command()
    assert (command or pdf.GUIDE) in html  # on this Debian: the apt-get line
    # The print version's link: the same page, not the PDF.
    assert 'href="/contacts/' in html or "jaaroverzicht?werkjaar=2025-2026" in html
    assert ".pdf?" not in html.split("Open", 1)[1].split("</a>", 1)[0]


def test_the_print_versions_still_work(without_pango):
    for name in ("certificate print", "record print"):
        status, html = without_pango[name]
        assert status == 200, name
        assert "Voorlezen" in html, name


def test_the_page_speaks_english_too(without_pango):
    status, html = without_pango["english"]
    assert status == 503
    assert "No PDF on this server" in html and "Open the print version" in html


@pytest.mark.parametrize(
    ("system", "release", "command"),
    [
        ("Darwin", {}, pdf.BREW),
        ("Linux", {"ID": "debian"}, pdf.APT),
        ("Linux", {"ID": "ubuntu", "ID_LIKE": "debian"}, pdf.APT),
        ("Linux", {"ID": "linuxmint", "ID_LIKE": "ubuntu debian"}, pdf.APT),
        ("Linux", {"ID": "fedora"}, pdf.DNF),
        ("Linux", {"ID": "rocky", "ID_LIKE": "rhel centos fedora"}, pdf.DNF),
        ("Linux", {"ID": "arch"}, None),
        ("Linux", {}, None),
        ("Windows", {}, None),
    ],
)
def test_one_install_command_per_kind_of_system(system, release, command):
    assert pdf.install_command(system, release) == command
