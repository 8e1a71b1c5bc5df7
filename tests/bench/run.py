"""Benchmarks, apart from the test suite: `make bench` prints the figures.

Foundation pages with a large administration: 40 networks of 40 members with 3 contacts
each (1,600 facilities, 4,800 contacts). Target: each page under 250 ms on the 2-core
development machine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from learnnet import create_app
from learnnet.extensions import db
from tests import factories


def build(tmp: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "PAGE_CACHE_SECONDS": 0,  # these figures are for rendering a page
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        for n in range(40):
            net = factories.network(facilitators=[user], name=f"Netwerk {n}")
            for f in range(40):
                fac = factories.facility(postcode=str(1000 + f))
                factories.member(net, fac)
                for _ in range(3):
                    factories.contact(fac, share_details=True)
        db.session.commit()
        slug = net.slug
    return app, slug


def timed(client, url: str, runs: int = 15) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return statistics.median(samples), max(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, slug = build(Path(folder))
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": factories.PASSWORD})
        print("page                      median ms   max ms   (target < 250 ms)")
        for name, url in (
            ("dashboard (40 networks)", "/"),
            ("network (40 members)", f"/networks/{slug}"),
            ("facility list (200 rows)", "/facilities"),
            ("member export CSV", f"/networks/{slug}/members.csv"),
        ):
            median, worst = timed(client, url)
            print(f"{name:<26}{median:>9.1f}{worst:>9.1f}")


if __name__ == "__main__":
    main()
    from tests.bench import api, attendance, csv_import, feeds, member, planner, poll
    from tests.bench import http as http_bench

    planner.main()
    csv_import.main()
    member.main()
    feeds.main()
    attendance.main()
    poll.main()
    http_bench.main()
    api.main()
