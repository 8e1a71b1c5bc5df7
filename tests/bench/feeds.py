"""Benchmark of calendar feeds (issue 7): a personal feed of 1,000 sessions.

- cold: the whole request (lookup, validators, loading, building, serialising);
- icalendar alone: serialising the same 1,000 events with the icalendar library only,
  the reference (target: cold at most 1.5 times this);
- 304: a conditional GET with the current ETag, with 100 and with 1,000 sessions
  (target: the same, whatever the number of sessions).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from learnnet import create_app
from learnnet.calendar import services
from learnnet.extensions import db
from tests import factories


def build(tmp: Path, sessions: int):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / f'feeds{sessions}.sqlite3'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "PAGE_CACHE_SECONDS": 0,  # these figures are for rendering a page
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        db.create_all()
        user = factories.user(email="bench@example.org")
        home = factories.facility(name="Thuisvoorziening")
        member = factories.contact(home, name="Ilse Bench", email="ilse@example.org")
        per_network = sessions // 5
        for n in range(5):
            net = factories.network(facilitators=[user], name=f"Netwerk {n}")
            factories.member(net, home)
            host = factories.facility(name=f"Gast {n}")
            factories.member(net, host)
            for s in range(per_network):
                session = factories.session(net, host, days_ahead=1 + s + n * 400)
                session.agenda = "19:00 Onthaal\n19:30 Rondleiding, uitwisseling; ideeën"
        db.session.commit()
        feed = services.ensure_feed("contact", member.id)
        db.session.commit()
        token = services.token_of(feed)
    return app, token


def icalendar_alone(app, token: str) -> float:
    """Serialise the same events with icalendar only (no loading, no words, no links)."""
    with app.test_request_context():
        feed = services.feed_for_token(token)
        calendar = services.feed_calendar(feed, lambda s: "https://x/m/t", lambda s: "")
    events = calendar.events

    def run() -> None:
        cal = icalendar.Calendar()
        cal.add("prodid", "-//bench//")
        cal.add("version", "2.0")
        for e in events:
            zone = ZoneInfo(e.tz)
            ev = icalendar.Event()
            ev.add("uid", e.uid)
            ev.add("dtstamp", e.last_modified)
            ev.add("sequence", e.sequence)
            ev.add("last-modified", e.last_modified)
            ev.add("dtstart", e.start.astimezone(zone))
            ev.add("dtend", e.end.astimezone(zone))
            ev.add("status", e.status)
            ev.add("summary", e.summary)
            ev.add("description", e.description)
            ev.add("location", e.location)
            ev.add("url", e.url)
            cal.add_component(ev)
        cal.add_missing_timezones()
        cal.to_ical()

    return timed(run, 5)[0]


def _get(client, url: str, headers: dict[str, str], status: int) -> None:
    assert client.get(url, headers=headers).status_code == status


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    print("\nfeeds (personal feed)                          median ms   max ms   target")
    with tempfile.TemporaryDirectory() as folder:
        figures = {}
        for count in (100, 1000):
            app, token = build(Path(folder), count)
            client = app.test_client()
            url = f"/feeds/{token}.ics"
            etag = client.get(url).headers["ETag"]

            figures[count] = (
                timed(lambda c=client, u=url: _get(c, u, {}, 200), 5),
                timed(lambda c=client, u=url, e=etag: _get(c, u, {"If-None-Match": e}, 304), 50),
            )
            if count == 1000:
                alone = icalendar_alone(app, token)
        (cold_med, cold_max), _ = figures[1000]
        print(f"{'cold, 1,000 sessions':<47}{cold_med:>9.1f}{cold_max:>9.1f}")
        print(f"{'icalendar alone, same 1,000 events':<47}{alone:>9.1f}{'':>9}")
        print(f"{'  ratio cold / icalendar alone':<47}{cold_med / alone:>9.2f}{'':>9}   <= 1.5")
        for count in (100, 1000):
            med, worst = figures[count][1]
            print(f"{f'304 revalidation, {count:,} sessions':<47}{med:>9.2f}{worst:>9.2f}   flat")


if __name__ == "__main__":
    main()
