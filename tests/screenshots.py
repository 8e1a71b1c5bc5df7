"""Make the README's pictures from the demo (`make screenshots`).

Loads the demo into a throwaway instance, serves it on a free loopback port, and
photographs four pages with Playwright and Chromium, in Dutch: the member's page on a
phone (375 px), then, logged in as the demo facilitator, the dashboard, the plan preview
and a session page (1280 px). The pictures go to docs/img/ as PNG, each cut to a height
that shows the page's point and keeps the file small (a palette PNG).

Run: ``.venv/bin/python -m tests.screenshots`` (``LEARNNET_CHROMIUM`` for another
Chromium than /usr/bin/chromium).
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess  # nosec B404 - starts our own app and flask commands
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("LEARNNET_CHROMIUM", "/usr/bin/chromium")
FLASK = [sys.executable, "-m", "flask", "--app", "learnnet"]
NETWORK = "gent-baby-peuter"  # the demo network with answers, a programme and minutes
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # nosec B603 - fixed arguments
        [*FLASK, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


@contextmanager
def demo_server() -> Iterator[tuple[str, str, tuple[str, str], int]]:
    """Serve the demo from a throwaway instance; yield its base URL, the demo member's
    personal link, the first demo facilitator's login and the id of the network's next
    session."""
    with tempfile.TemporaryDirectory(prefix="learnnet-shots-") as folder:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LEARNNET_INSTANCE_PATH": folder,
            "LEARNNET_DATABASE_URL": f"sqlite:///{folder}/learnnet.sqlite3",
            "LEARNNET_BASE_URL": base,
            "LEARNNET_MAIL_OUTBOX_DIR": f"{folder}/outbox",
            "LEARNNET_PAGE_CACHE_SECONDS": "0",
        }
        _flask(env, "db", "upgrade")
        _flask(env, "demo")
        link = re.search(r"https?://\S+", _flask(env, "member-link", "--demo"))
        if link is None:
            raise SystemExit("flask member-link --demo printed no link")
        # "facilitator  begeleider@example.org / demo-begeleider  (An Peeters)"
        login = re.search(
            r"^facilitator\s+(\S+@\S+) / (\S+)", _flask(env, "demo", "--logins"), re.M
        )
        if login is None:
            raise SystemExit("flask demo --logins printed no facilitator")
        server = subprocess.Popen(  # nosec B603 - fixed arguments
            [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)  # nosec B310
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the demo server did not start")
            session_id = next_session_id(Path(folder) / "learnnet.sqlite3")
            yield base, link.group(0), (login.group(1), login.group(2)), session_id
        finally:
            server.terminate()
            server.wait(timeout=10)


def next_session_id(database: Path) -> int:
    """The demo network's next session (answers, a programme, a confirmed host)."""
    with sqlite3.connect(database) as con:
        row = con.execute(
            "SELECT s.id FROM network_session s JOIN network n ON n.id = s.network_id"
            " WHERE n.slug = ? AND s.starts_at > ? AND s.status != 'cancelled'"
            " ORDER BY s.starts_at LIMIT 1",
            (NETWORK, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchone()
    if row is None:
        raise SystemExit(f"the demo network {NETWORK} has no session to come")
    return int(row[0])


def shoot(page: Page, name: str, height: int, start: str | None = None) -> Path:
    """A PNG of ``height`` pixels of the page from its top, or from a little above the
    element ``start`` (the page's point, a small file)."""
    path = OUT / f"{name}.png"
    width = page.viewport_size["width"] if page.viewport_size else DESKTOP["width"]
    top = 0.0
    if start is not None:
        box = page.locator(start).first.bounding_box()
        if box is None:
            raise SystemExit(f"{name}: nothing matches {start}")
        top = max(0.0, box["y"] + page.evaluate("window.scrollY") - 16)
    clip = {"x": 0, "y": top, "width": width, "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    small(path)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
    return path


def small(path: Path) -> None:
    """Keep the PNG small: a screen of flat colours loses nothing visible in a palette of
    128 colours (no dithering), and the file shrinks to about a third."""
    image = Image.open(path).convert("RGB")
    palette = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)


def log_in(page: Page, base: str, email: str, password: str) -> None:
    """Log in as the demo facilitator (the login `flask demo --logins` prints)."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with demo_server() as (base, member_link, login, session_id), sync_playwright() as pw:
        # --lang: the date and time inputs follow the browser's language, not the page's.
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--lang=nl-BE"])
        options = {"locale": "nl-BE", "timezone_id": "Europe/Brussels"}

        phone = browser.new_context(viewport=PHONE, device_scale_factor=1, **options)
        page = phone.new_page()
        page.goto(member_link)
        shoot(page, "member-phone", 1170)
        phone.close()

        desk = browser.new_context(viewport=DESKTOP, device_scale_factor=1, **options)
        page = desk.new_page()
        log_in(page, base, *login)
        shoot(page, "dashboard", 1060)

        page.goto(f"{base}/networks/{NETWORK}/plan")
        page.click("button[name=action][value=preview]")
        page.wait_for_selector("#preview")
        shoot(page, "plan-preview", 900, start="#preview")

        page.goto(f"{base}/sessions/{session_id}")
        shoot(page, "session", 1100)
        browser.close()


if __name__ == "__main__":
    main()
