"""Benchmark of the member's page and of one answer (issue 6).

A contact whose facility is in 5 networks with 200 upcoming sessions in all (40 each),
every network with 20 member facilities of 3 contacts, and about 12 answers per session
(2,400 answers). Targets on the 2-core development machine: member page under 250 ms,
an answer (POST, redirect not followed) under 100 ms. The test suite checks the other
half of the claim: the statement count does not grow with the number of sessions.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from learnnet import create_app
from learnnet.extensions import db
from learnnet.rsvp import services
from learnnet.rsvp.contacts import ensure_link, token_of
from tests import factories


def build(tmp: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "PAGE_CACHE_SECONDS": 0,  # these figures are for rendering a page
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SEND_IMMEDIATELY": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp / "instance"),
    )
    rng = random.Random(6)
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        home = factories.facility(name="Thuisvoorziening")
        member = factories.contact(home, name="Ilse Bench", email="ilse@example.org")
        factories.contact(home, name="Collega Bench")
        sessions = []
        for n in range(5):
            net = factories.network(facilitators=[user], name=f"Netwerk {n}")
            factories.member(net, home)
            people = []
            for f in range(20):
                fac = factories.facility(name=f"Voorziening {n}-{f}", postcode=str(1000 + f))
                factories.member(net, fac)
                people += [
                    factories.contact(fac, share_details=rng.random() < 0.5) for _ in range(3)
                ]
            for s in range(40):
                session = factories.session(net, home, days_ahead=7 + s * 3 + n)
                session.capacity = 10
                sessions.append(session)
                for contact in rng.sample(people, 12):
                    services.answer(session.id, contact, rng.choice(["yes", "maybe", "no"]))
        db.session.commit()
        token = token_of(ensure_link(member))
        db.session.commit()
        ids = [s.id for s in sessions]
    return app, token, ids


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, token, ids = build(Path(folder))
        client = app.test_client()

        def page() -> None:
            assert client.get(f"/m/{token}").status_code == 200

        answers = iter(["yes", "maybe", "no"] * 100)
        session_ids = iter(ids * 3)

        def answer() -> None:
            response = client.post(
                f"/m/{token}/sessions/{next(session_ids)}", data={"answer": next(answers)}
            )
            assert response.status_code == 303

        print("\nmember (5 networks, 200 upcoming sessions)   median ms   max ms   target")
        median, worst = timed(page, 15)
        print(f"{'member page':<45}{median:>9.1f}{worst:>9.1f}   < 250")
        median, worst = timed(answer, 60)
        print(f"{'one answer (POST)':<45}{median:>9.1f}{worst:>9.1f}   < 100")


if __name__ == "__main__":
    main()
