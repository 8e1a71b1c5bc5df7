"""A live learnnet (demo data, real CSRF) in a thread, and Debian's Chromium through Playwright.

Playwright cannot download its own browser on these machines, so the tests launch the
system's chromium (installed by `make test` when missing) via ``executable_path``.
Set LEARNNET_CHROMIUM to use another binary. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from learnnet import MIGRATIONS, create_app, demo
from learnnet.extensions import db
from tests.conftest import TEST_SECRET

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    """The system Chromium; a clear failure (not a skip) when it is missing."""
    path = (
        os.environ.get("LEARNNET_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "Debian's chromium is not installed: run `make test` (it installs it) or apt-get install chromium"
        )
    return path


class Live:
    """A served app: its URL, the app itself (for the database) and its instance folder."""

    def __init__(self, url: str, app: Any, instance: Path) -> None:
        self.url = url
        self.app = app
        self.instance = instance


@pytest.fixture(scope="module")
def live_server(live: Live) -> str:
    """The URL of the live demo app."""
    return live.url


def _live_config(path: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{path}",
        "SECRET_KEY": TEST_SECRET,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, made once per test process.

    Migrating and loading the demo takes seconds; each browser module copies this file
    instead, so every module still starts from the same untouched demo.
    """
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.sqlite3"
    app = create_app(_live_config(path), instance_path=str(folder / "instance"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        demo.load()
        db.session.remove()
        db.engine.dispose()  # the last connection folds the WAL into the file
    return path


def _closing(app: Any) -> Any:
    """The app, with each response closed even when the browser drops the connection.

    Werkzeug's development server skips ``close()`` on a dropped connection (Chromium
    drops one now and then, e.g. for the favicon), and the file being sent was then
    closed by the garbage collector: a ResourceWarning, which the suite treats as an
    error (it failed one browser test in a full run). A generator's ``finally`` runs
    when the generator is dropped, before the file is collected."""

    def wsgi(environ: Any, start_response: Any) -> Iterator[bytes]:
        result = app(environ, start_response)
        try:
            yield from result
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[Live]:
    """Serve a migrated database with the demo data on a free loopback port."""
    folder = tmp_path_factory.mktemp("live")
    shutil.copyfile(demo_database, folder / "live.sqlite3")
    app = create_app(_live_config(folder / "live.sqlite3"), instance_path=str(folder / "instance"))
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app, folder / "instance")
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    """New pages in fresh contexts, Dutch by default, at a given viewport."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "nl-BE") -> Any:
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_load_state("load")
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page: Any) -> bool:
    """True when the page fits the viewport's width (phone layouts).

    Waits for the load event first: a click that navigates returns once the new page
    commits, possibly before its stylesheet applies.
    """
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
