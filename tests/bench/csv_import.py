"""Benchmark: importing 5,000 lines (1,250 facilities with 4 contacts) — preview, then
confirm. Target (issue 10): both together under 2 s on the 2-core development machine.

Each round starts from an empty database; the median of the rounds is shown. The same
file imported again (nothing changes) is timed as well, outside the target.
"""

from __future__ import annotations

import io
import re
import statistics
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient

from learnnet import create_app
from learnnet.extensions import db
from tests import factories

ROUNDS = 3


def csv_body(lines: int = 5000) -> bytes:
    rows = ["facility_name;postcode;city;room_capacity;contact_name;contact_email"]
    for n in range(lines):
        f = n // 4
        rows.append(f"Kinderopvang {f:04d};{1000 + f % 8000};Gent;12;Persoon {n};p{n}@example.org")
    return ("\r\n".join(rows) + "\r\n").encode()


def import_once(client: FlaskClient, slug: str, data: bytes) -> tuple[float, float, int, int]:
    """(preview ms, confirm ms, preview page bytes, confirm status)."""
    start = time.perf_counter()
    preview = client.post(
        f"/networks/{slug}/import",
        data={"file": (io.BytesIO(data), "leden.csv")},
        content_type="multipart/form-data",
    )
    middle = time.perf_counter()
    html = preview.get_data(as_text=True)
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', html)
    confirm = client.post(
        f"/networks/{slug}/import/confirm",
        data={"payload": payload.group(1) if payload else ""},
    )
    end = time.perf_counter()
    return (middle - start) * 1000, (end - middle) * 1000, len(html), confirm.status_code


def one_round(data: bytes) -> tuple[tuple[float, float, int, int], tuple[float, float, int, int]]:
    """A first import into an empty register, then the same file again."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'csv.sqlite3'}",
                "SECRET_KEY": "bench-" + "x" * 40,
                "PAGE_CACHE_SECONDS": 0,  # these figures are for rendering a page
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            },
            instance_path=str(tmp / "instance"),
        )
        with app.app_context():
            db.create_all()
            user = factories.user(email="bench@example.org")
            net = factories.network(facilitators=[user], name="Groot netwerk")
            db.session.commit()
            slug = net.slug
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": factories.PASSWORD})
        first = import_once(client, slug, data)
        again = import_once(client, slug, data)
        with app.app_context():
            db.engine.dispose()
        return first, again


def main() -> None:
    data = csv_body()
    rounds = [one_round(data) for _ in range(ROUNDS)]
    first = [r[0] for r in rounds]
    again = [r[1] for r in rounds]

    def median(runs: list[tuple[float, float, int, int]], index: int) -> float:
        return statistics.median(r[index] for r in runs)

    together = statistics.median(r[0] + r[1] for r in first)
    print(f"\nCSV import, 5,000 lines (median of {ROUNDS} rounds)       ms")
    print(f"{'preview':<45}{median(first, 0):>9.0f}   ({first[0][2] / 1024:.0f} KB page)")
    print(f"{'confirm':<45}{median(first, 1):>9.0f}   (status {first[0][3]})")
    print(f"{'together (target < 2,000)':<45}{together:>9.0f}")
    again_total = statistics.median(r[0] + r[1] for r in again)
    print(f"{'same file again, nothing changes':<45}{again_total:>9.0f}   (status {again[0][3]})")


if __name__ == "__main__":
    main()
