"""Page budgets of issue 24 on the bench's data: the five list pages, rendered anew, stay
under their uncompressed size, and what they leave out is one link away.

The data is `make bench`'s (``tests.bench.http.seed``: a network of 200 members and 200
sessions, a member with 200 coming sessions and 2,400 answers), built once for the module
on SQLite. The page cache is off: the budgets are about what a page renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from learnnet import create_app
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.networks.models import Contact
from learnnet.sessions.models import Session
from tests.bench.http import BUDGETS_KB, PASSWORD, World, seed
from tests.conftest import Client, base_config


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World]]:
    """An app on the bench's data (seeded once for the module)."""
    folder = tmp_path_factory.mktemp("budgets")
    app = create_app(
        base_config(f"sqlite:///{folder / 'bench.sqlite3'}", PAGE_CACHE_SECONDS=0),
        instance_path=str(folder / "instance"),
    )
    app.test_client_class = Client
    world = seed(app)
    yield app, world
    with app.app_context():
        db.engine.dispose()


def _facilitator(app: Flask, language: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
    with app.app_context():
        db.session.execute(db.update(User).values(locale=language))
        db.session.commit()
    return client


def _member(app: Flask, language: str) -> FlaskClient:
    """A member's phone; her page speaks her own language."""
    with app.app_context():
        db.session.execute(db.update(Contact).values(preferred_language=language))
        db.session.commit()
    return app.test_client()


def _paths(world: World) -> dict[str, tuple[str, bool]]:
    """Each budgeted page: its address and whether a facilitator asks for it."""
    slug = world.network_slug
    return {
        "dashboard": ("/", True),
        "network page": (f"/networks/{slug}", True),
        "timeline": (f"/networks/{slug}/sessions", True),
        "session page": (f"/sessions/{world.session_id}", True),
        "member page": (f"/m/{world.member_token}", False),
    }


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", list(BUDGETS_KB))
def test_page_within_budget(bench: tuple[Flask, World], name: str, language: str) -> None:
    app, world = bench
    path, facilitator = _paths(world)[name]
    client = _facilitator(app, language) if facilitator else _member(app, language)
    response = client.get(path)
    assert response.status_code == 200
    assert f'lang="{language}"' in response.text
    size_kb = len(response.data) / 1024
    assert size_kb <= BUDGETS_KB[name], f"{name} ({language}): {size_kb:.1f} KB"


def _ids(html: str, pattern: str) -> set[int]:
    return {int(m) for m in re.findall(pattern, html)}


def test_what_is_left_out_is_one_link_away(bench: tuple[Flask, World]) -> None:
    """Each page names the link to the rest, and that page shows it: every coming session
    on the member page, every member in the tally and every expected contact on the
    session page, the directory and the bridges of the network page."""
    app, world = bench
    facilitator = _facilitator(app, "nl")
    member = _member(app, "nl")
    slug = world.network_slug
    with app.app_context():
        coming = {
            s.id for s in db.session.scalars(db.select(Session).where(Session.status == "planned"))
        }

    page = member.get(f"/m/{world.member_token}").text
    later = f"/m/{world.member_token}?later=all#later"
    assert later.replace("&", "&amp;") in page or later in page
    full = member.get(later).text
    shown = _ids(full, r'id="session-(\d+)"')
    assert len(shown) == 200 and shown <= coming

    timeline = facilitator.get(f"/networks/{slug}/sessions").text
    assert "?tally=all#tally" in timeline
    tally = facilitator.get(f"/networks/{slug}/sessions?tally=all").text
    assert len(_ids(tally.split('id="tally"')[1].split("</table>")[0], r"/facilities/(\d+)")) == 200

    session = facilitator.get(f"/sessions/{world.session_id}").text
    assert "?people=all#answers" in session
    everyone = facilitator.get(f"/sessions/{world.session_id}?people=all").text
    assert len(_ids(everyone, r'id="person-(\d+)"')) == 400
    assert len(_ids(session, r'id="person-(\d+)"')) >= 40  # everyone who answered

    network = facilitator.get(f"/networks/{slug}").text
    assert (
        len(_ids(network.split('id="members"')[1].split("</table>")[0], r"/facilities/(\d+)"))
        == 200
    )
    assert "?directory=all#directory" in network and "?bridges=all#bridges" in network
    directory = facilitator.get(f"/networks/{slug}?directory=all").text
    assert directory.count("mailto:p") >= 200
    assert "<svg" in facilitator.get(f"/networks/{slug}?bridges=all").text

    dashboard = facilitator.get("/").text
    assert "?todo=all#todo" in dashboard
    everything = facilitator.get("/?todo=all").text
    assert len(_ids(everything, r'href="/sessions/(\d+)/edit"')) >= len(
        _ids(dashboard, r'href="/sessions/(\d+)/edit"')
    )


def test_budgets_are_the_bench_budgets() -> None:
    """One set of budgets: the bench prints against the same figures this test asserts."""
    assert BUDGETS_KB == {
        "dashboard": 30,
        "network page": 150,
        "timeline": 120,
        "session page": 40,
        "member page": 100,
    }
