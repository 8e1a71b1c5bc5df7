"""Benchmark of attendance (issue 8): a network of 60 facilities, 300 contacts and 40 held
sessions with about 40 % of people present at each. Figures: the network's attendance
report, the network page with the bridges picture, and the check-in page of one session.
Target on the 2-core development machine: each under 250 ms.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from learnnet import create_app
from learnnet.attendance.models import PRESENT, Attendance
from learnnet.extensions import db
from learnnet.models import utcnow
from tests import factories


def build(tmp: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'attendance.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "PAGE_CACHE_SECONDS": 0,  # these figures are for rendering a page
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp / "instance"),
    )
    rng = random.Random(8)
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        net = factories.network(facilitators=[user], name="Netwerk bruggen")
        facilities = []
        people = []
        for f in range(60):
            fac = factories.facility(name=f"Voorziening {f:02d}", postcode=str(1000 + f))
            factories.member(net, fac)
            facilities.append(fac)
            people += [factories.contact(fac) for _ in range(5)]
        sessions = []
        for s in range(40):
            start = utcnow() - timedelta(days=10 * (40 - s))
            session = factories.session(
                net,
                rng.choice(facilities),
                starts_at=start,
                ends_at=start + timedelta(hours=2, minutes=30),
                status="held",
            )
            sessions.append(session)
            for contact in rng.sample(people, 120):
                db.session.add(
                    Attendance(
                        session=session,
                        contact=contact,
                        facility_id=contact.facility_id,
                        person_name=contact.name,
                        facility_name=contact.facility.name,
                        status=PRESENT,
                    )
                )
        db.session.commit()
        slug, session_id = net.slug, sessions[-1].id
    return app, slug, session_id


def timed(client, url: str, runs: int = 10) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return statistics.median(samples), max(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, slug, session_id = build(Path(folder))
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": factories.PASSWORD})
        print("\nattendance (60 facilities, 300 contacts, 40 held sessions)  median ms   max ms")
        for name, url in (
            ("network attendance report", f"/networks/{slug}/attendance"),
            ("network page with bridges", f"/networks/{slug}"),
            ("check-in page (300 people)", f"/sessions/{session_id}/checkin"),
        ):
            median, worst = timed(client, url)
            print(f"{name:<58}{median:>9.1f}{worst:>9.1f}")


if __name__ == "__main__":
    main()
