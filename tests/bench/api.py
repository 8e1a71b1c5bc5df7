"""Benchmark of the read API (issue 26): 2,000 facilities and 1,000 sessions listed
page by page, as a CRM syncing everything would. Prints milliseconds and SQL statements
per page for the first, a middle and the last page: with keyset paging (a cursor, not
an offset) neither may grow with the page number."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from learnnet import create_app
from learnnet.extensions import db
from tests import factories
from tests.api_helpers import bearer, make_token


def build(tmp: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'api.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        networks = []
        for n in range(20):
            net = factories.network(facilitators=[user], name=f"Netwerk {n}")
            networks.append(net)
            hosts = []
            for f in range(100):
                fac = factories.facility(name=f"Voorziening {n}-{f}", postcode=str(1000 + f))
                factories.member(net, fac)
                hosts.append(fac)
            for s in range(50):
                factories.session(net, hosts[s % 100], days_ahead=s * 7 - 150)
        db.session.commit()
        _, secret = make_token(user, networks, days=30)
    return app, secret


def walk(app, secret: str, url: str, limit: int) -> list[tuple[float, int]]:
    """(ms, statements) of every page of ``url``."""
    statements = [0]

    def count(*_args):
        statements[0] += 1

    pages = []
    client = app.test_client()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        cursor = None
        while True:
            statements[0] = 0
            query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            start = time.perf_counter()
            response = client.get(url + query, headers=bearer(secret))
            pages.append(((time.perf_counter() - start) * 1000, statements[0]))
            assert response.status_code == 200, response.get_data(as_text=True)
            cursor = response.get_json()["next_cursor"]
            if cursor is None:
                break
        event.remove(db.engine, "before_cursor_execute", count)
    return pages


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, secret = build(Path(folder))
        walk(app, secret, "/api/v1/networks", 50)  # first use: the token's last use is written
        print(
            "API list (2,000 facilities, 1,000 sessions)  pages  ms first/middle/last   "
            "statements first/last  total ms"
        )
        for url, limit in (
            ("/api/v1/facilities", 200),
            ("/api/v1/facilities", 50),
            ("/api/v1/sessions", 200),
            ("/api/v1/sessions", 50),
        ):
            pages = walk(app, secret, url, limit)
            ms = [p[0] for p in pages]
            middle = ms[len(ms) // 2]
            print(
                f"{url + f' limit={limit}':<44}{len(pages):>6}  "
                f"{ms[0]:>7.1f}{middle:>7.1f}{ms[-1]:>7.1f}   "
                f"{pages[0][1]:>10}{pages[-1][1]:>6}  {sum(ms):>9.0f}"
                f"  (median {statistics.median(ms):.1f})"
            )
            assert len({p[1] for p in pages}) == 1, "statements per page grew"


if __name__ == "__main__":
    main()
