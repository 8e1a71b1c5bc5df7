"""Benchmark: importing 5,000 lines (1,250 facilities with 4 contacts) — preview, then
confirm. Target (issue 10): both together under 2 s on the 2-core development machine."""

from __future__ import annotations

import io
import re
import tempfile
import time
from pathlib import Path

from learnnet import create_app
from learnnet.extensions import db
from tests import factories


def csv_body(lines: int = 5000) -> bytes:
    rows = ["facility_name;postcode;city;room_capacity;contact_name;contact_email"]
    for n in range(lines):
        f = n // 4
        rows.append(f"Kinderopvang {f:04d};{1000 + f % 8000};Gent;12;Persoon {n};p{n}@example.org")
    return ("\r\n".join(rows) + "\r\n").encode()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'csv.sqlite3'}",
                "SECRET_KEY": "bench-" + "x" * 40,
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
        data = csv_body()
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
        print("\nCSV import, 5,000 lines                          ms")
        print(f"{'preview':<45}{(middle - start) * 1000:>9.0f}   ({len(html) / 1024:.0f} KB page)")
        print(f"{'confirm':<45}{(end - middle) * 1000:>9.0f}   (status {confirm.status_code})")
        print(f"{'together (target < 2,000)':<45}{(end - start) * 1000:>9.0f}")


if __name__ == "__main__":
    main()
