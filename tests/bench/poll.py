"""Benchmark of the season poll feeding the planner (issue 22).

A poll of 40 dates in a network of 60 member facilities with 3 contacts each; every
contact answers every date (7,200 answers: most "kan", some "kan niet", one facility in
five offers to host on a date), a few answer late. Timed: the facilitator's grid (with a
date dropped), the step from the grid to the plan preview, the preview itself, and the
two services under them. Target (issue 22): grid and plan each well under a second on
the 2-core development machine.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from learnnet import create_app
from learnnet.extensions import db
from learnnet.planning import planning, poll_services
from learnnet.planning.poll import CAN, CANNOT, RATHER_NOT
from learnnet.planning.recurrence import DATES
from learnnet.timefmt import local_today
from tests import factories

FACILITIES, CONTACTS, DATES_IN_POLL = 60, 3, 40


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
    rng = random.Random(22)
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        net = factories.network(facilitators=[user], name="Netwerk peiling")
        facilities = []
        for f in range(FACILITIES):
            fac = factories.facility(name=f"Voorziening {f:02d}", room_capacity=None)
            factories.member(net, fac)
            for _ in range(CONTACTS):
                factories.contact(fac)
            facilities.append(fac)
        db.session.commit()
        start = local_today() + timedelta(days=20)
        days = [start + timedelta(days=7 * i) for i in range(DATES_IN_POLL)]
        poll = poll_services.create_poll(net, user, days, days[0], "Welke data passen?")
        for fac in facilities:
            for contact in fac.contacts:
                given = {}
                for day in days:
                    answer = rng.choices((CAN, RATHER_NOT, CANNOT), (7, 1, 2))[0]
                    given[day] = (answer, answer != CANNOT and rng.random() < 0.07)
                poll_services.record_answers(poll, contact, given)
        poll_services.close_poll(poll)
        for fac in facilities[:5]:
            poll_services.record_answers(poll, fac.contacts[0], {days[3]: (CANNOT, False)})
        return app, net.slug, poll.id, days


def timed(action, runs: int = 7) -> tuple[float, float, float]:
    """Median and worst wall-clock time, and the median processor time of this process
    (which other work on a shared machine does not inflate), in ms."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), max(wall), statistics.median(cpu)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, slug, poll_id, days = build(Path(folder))
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": factories.PASSWORD})
        grid = f"/networks/{slug}/polls/{poll_id}?drop={days[5].isoformat()}"
        to_plan = f"/networks/{slug}/polls/{poll_id}/plan?drop={days[5].isoformat()}"
        preview = client.get(to_plan).headers["Location"]

        def get(url: str, status: int = 200):
            def action() -> None:
                response = client.get(url)
                assert response.status_code == status, (url, response.status_code)

            return action

        print(
            f"poll of {DATES_IN_POLL} dates x {FACILITIES} facilities x {CONTACTS} contacts"
            "\n                              median ms   max ms   cpu ms   (target well under 1000 ms)"
        )
        for name, action in (
            ("grid page", get(grid)),
            ("grid -> plan (redirect)", get(to_plan, 303)),
            ("plan preview page", get(preview)),
        ):
            median, worst, cpu = timed(action)
            print(f"{name:<30}{median:>9.1f}{worst:>9.1f}{cpu:>9.1f}")
        with app.test_request_context():
            from learnnet.planning.poll_models import Poll

            poll = db.session.get(Poll, poll_id)
            today = local_today()
            data = planning.PlanInput(
                kind=DATES,
                start_on=today,
                dates=tuple(days),
                poll_id=poll_id,
                dropped=frozenset({days[5]}),
                poll_dropped=frozenset({days[5]}),
            )
            for name, action in (
                ("  overview() (grid's data)", lambda: poll_services.overview(poll)),
                (
                    "  preview() (planner + poll)",
                    lambda: planning.preview(poll.network, data, today, "nl"),
                ),
            ):
                median, worst, cpu = timed(action)
                print(f"{name:<30}{median:>9.1f}{worst:>9.1f}{cpu:>9.1f}")


if __name__ == "__main__":
    main()
