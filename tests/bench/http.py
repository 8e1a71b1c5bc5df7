"""What users get: learnnet under gunicorn, measured with real HTTP requests (issue 11).

Run with ``make bench`` or ``python -m tests.bench.http`` (as a module: this file is named
like the standard library's ``http`` package, which a plain ``python tests/bench/http.py``
would hide).

The app runs under gunicorn with 2 sync workers and the repository's ``gunicorn.conf.py``
(the production command of docs/running.md), on PostgreSQL when one answers on 127.0.0.1:5432
(its own database ``learnnet_bench``, created when missing and filled anew on every run;
``LEARNNET_BENCH_DATABASE_URL`` picks another server), else on a SQLite file.

The data: a facilitator of 10 networks with 2,000 facilities in all; one network of 200
members (2 contacts each, one in the directory) with 200 sessions (180 past, 20 coming,
the next one with 40 answers); a member whose facility is in 5 networks with 200
upcoming sessions and 2,400 answers; a contact whose personal feed holds 1,000 sessions.

Every page is requested over fresh connections (gunicorn's sync workers close each one),
first one at a time, then from 4 connections at once, in rounds that visit every page in
turn (interleaved), so that a busy moment on the machine hits all pages alike. The
figure that holds up on a busy machine is each page's share of ``/healthz`` in the same
run: requests per second of the page divided by those of ``/healthz``.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-http-" + "s" * 40
PASSWORD = "bench password 11"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ROUNDS = 3
SEQUENTIAL_SECONDS = 1.0
CONCURRENT_SECONDS = 1.0
CONNECTIONS = 4
WARM = 4  # untimed requests before a kept page's round (both workers keep it)

# Targets of issue 11, as shares of /healthz in the same run.
HTML_TARGET = 0.35
NOT_MODIFIED_TARGET = 0.80
FEED_TARGET = 1.5  # cold feed at most this many times icalendar alone
P90_TARGET = 1.5  # p90 at most this many times the median
MEMORY_TARGET_MB = 100
# Targets of issue 24: pages rendered anew after a change, page sizes, worker memory.
ANEW_TARGET = 0.15  # share of /healthz's requests per second (about 17 ms here)
ANEW_MEMORY_TARGET_MB = 110
BUDGETS_KB = {  # uncompressed HTML on this data
    "dashboard": 30,
    "network page": 150,
    "timeline": 120,
    "session page": 40,
    "member page": 100,
}


# --- the database ---------------------------------------------------------------------------


def database_url() -> tuple[str, str]:
    """The bench database (created when missing) and a label; None when no PostgreSQL."""
    url = os.environ.get("LEARNNET_BENCH_DATABASE_URL")
    if url:
        return url, url.split("@")[-1]
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2",
            autocommit=True,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'learnnet_bench'"
            ).fetchone()
            if not exists:
                conn.execute("CREATE DATABASE learnnet_bench")
            version = conn.execute("SHOW server_version").fetchone()[0]
        return f"{PG_SERVER}/learnnet_bench", f"PostgreSQL {version.split()[0]} (learnnet_bench)"
    except Exception:  # no server, no driver, no rights: SQLite
        return "", "SQLite"


@dataclass
class World:
    """What the requests need to know about the seeded data."""

    network_slug: str = ""
    session_id: int = 0
    member_token: str = ""
    big_member_token: str = ""  # a contact of the network of 200 members
    feed_token: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def seed(app: Any) -> World:
    """Fill the (empty) database; plain ORM objects, flushed in large batches."""
    import random

    from learnnet.auth.models import User
    from learnnet.calendar import services as calendar_services
    from learnnet.extensions import db
    from learnnet.networks.models import Contact, Facility, Membership, Network
    from learnnet.networks.rules import name_key
    from learnnet.rsvp.contacts import ensure_link, token_of
    from learnnet.rsvp.models import MAYBE, NO, YES, Rsvp
    from learnnet.sessions.models import CANCELLED, HELD, PLANNED, Session

    rng = random.Random(11)
    world = World()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    facility_count = 0

    with app.app_context():
        db.drop_all()
        db.create_all()
        me = User(email="bench@example.org", name="Bench Begeleider", role="facilitator")
        me.set_password(PASSWORD)
        other = User(email="feeds@example.org", name="Feed Begeleider", role="facilitator")
        other.set_password(PASSWORD)
        db.session.add_all([me, other])

        def facility(name: str, postcode: int) -> Facility:
            nonlocal facility_count
            facility_count += 1
            f = Facility(
                name=name,
                name_key=name_key(name),
                street=f"Kerkstraat {facility_count % 90 + 1}",
                postcode=str(postcode),
                city=rng.choice(["Gent", "Aalst", "Brugge", "Leuven", "Mechelen", "Hasselt"]),
                room_capacity=rng.choice([15, 20, 30]),
                willing_to_host=rng.random() < 0.9,
                phone="09 123 45 67",
            )
            db.session.add(f)
            return f

        def contact(f: Facility, n: int, share: bool) -> Contact:
            c = Contact(
                facility=f,
                name=f"{rng.choice(['An', 'Sofie', 'Tom', 'Els', 'Joris', 'Lien'])} Persoon {n}",
                email=f"p{n}@example.org",
                function=rng.choice(["", "verantwoordelijke", "begeleider", "pedagogisch coach"]),
                phone="0470 12 34 56",
                share_details=share,
            )
            db.session.add(c)
            return c

        def network(name: str, slug: str, facilitators: list[User]) -> Network:
            net = Network(name=name, slug=slug, region="Oost-Vlaanderen", expected_attendance=14)
            net.facilitators = facilitators
            db.session.add(net)
            return net

        def session(net: Network, host: Facility, start: datetime, status: str) -> Session:
            s = Session(
                network=net,
                host=host,
                starts_at=start,
                ends_at=start + timedelta(hours=2, minutes=30),
                title="Netwerkbijeenkomst",
                agenda="19:00 Onthaal\n19:30 Rondleiding, uitwisseling; ideeën",
                capacity=host.room_capacity,
                status=status,
            )
            db.session.add(s)
            return s

        # The network of 200 members with 200 sessions: 180 past, 20 to come.
        big = network("Lerend netwerk Groot", "groot", [me])
        big_members = []
        people = 0
        for n in range(200):
            f = facility(f"Kinderdagverblijf Groot {n:03d}", 9000 + n % 100)
            db.session.add(Membership(network=big, facility=f, joined_on=date(2012, 9, 1)))
            for k in range(2):
                people += 1
                contact(f, people, share=k == 0)
            big_members.append(f)
        db.session.flush()
        # Hosts in turn among the willing; one coming session's host no longer hosts (a flag).
        hosts = [f for f in big_members if f.willing_to_host]
        big_members[-1].willing_to_host = False
        big_sessions = []
        for n in range(200):
            start = (now + timedelta(days=14 * (n - 179))).replace(hour=18)
            past = n < 180
            status = (CANCELLED if n % 37 == 5 else HELD) if past else PLANNED
            host = big_members[-1] if n == 190 else hosts[n % len(hosts)]
            big_sessions.append(session(big, host, start, status))
        db.session.flush()
        # The next session: 40 answers for its seats (a waitlist behind them).
        upcoming = big_sessions[180]
        answerers = [c for f in big_members[:40] for c in f.contacts][:40]
        for k, c in enumerate(answerers):
            answer = YES if k % 4 else rng.choice([MAYBE, NO])
            waitlisted = answer == YES and k >= 24
            db.session.add(
                Rsvp(
                    session=upcoming,
                    contact=c,
                    answer=answer,
                    waitlisted=waitlisted,
                    queued_at=now - timedelta(hours=40 - k) if waitlisted else None,
                )
            )
        world.network_slug = big.slug

        # The member: her facility is in 5 networks with 40 upcoming sessions each.
        home = facility("Thuisvoorziening De Bench", 9000)
        member = contact(home, 0, share=True)
        member.name, member.email = "Ilse Bench", "ilse@example.org"
        contact(home, 100_000, share=False).name = "Collega Bench"
        for n in range(5):
            net = network(f"Netwerk {n}", f"netwerk-{n}", [me])
            db.session.add(Membership(network=net, facility=home, joined_on=date(2020, 9, 1)))
            mates, rooms = [], []
            for k in range(20):
                f = facility(f"Voorziening {n}-{k:02d}", 1000 + k)
                db.session.add(Membership(network=net, facility=f, joined_on=date(2020, 9, 1)))
                if f.willing_to_host:
                    rooms.append(f)
                for _ in range(3):
                    people += 1
                    mates.append(contact(f, people, share=rng.random() < 0.5))
            db.session.flush()
            for s in range(40):
                start = (now + timedelta(days=7 + s * 3 + n)).replace(hour=18)
                host = home if s % 8 == n else rooms[s % len(rooms)]  # she hosts 5 of them
                sess = session(net, host, start, PLANNED)
                sess.capacity = 10
                seats = 0
                for k, c in enumerate(rng.sample(mates, 12)):
                    answer = rng.choice([YES, MAYBE, NO])
                    waitlisted = answer == YES and seats >= 10
                    seats += answer == YES and not waitlisted
                    db.session.add(
                        Rsvp(
                            session=sess,
                            contact=c,
                            answer=answer,
                            waitlisted=waitlisted,
                            queued_at=now - timedelta(hours=12 - k) if waitlisted else None,
                        )
                    )
            db.session.flush()

        # The rest of the 2,000 facilities, in 4 regional networks.
        regions = [network(f"Regio {n}", f"regio-{n}", [me]) for n in range(4)]
        n = 0
        while facility_count < 2000:
            f = facility(f"Opvang Regio {n:04d}", 2000 + n % 7000)
            db.session.add(
                Membership(network=regions[n % 4], facility=f, joined_on=date(2022, 1, 1))
            )
            people += 1
            contact(f, people, share=n % 3 == 0)
            n += 1
        db.session.flush()

        # The personal feed of 1,000 sessions: a contact in 5 networks of 200 sessions each.
        subscriber_home = facility("Abonnee Voorziening", 9100)
        subscriber = contact(subscriber_home, 200_000, share=False)
        for n in range(5):
            net = network(f"Agenda {n}", f"agenda-{n}", [other])
            db.session.add(
                Membership(network=net, facility=subscriber_home, joined_on=date(2020, 1, 1))
            )
            host = facility(f"Gast {n}", 9200 + n)
            db.session.add(Membership(network=net, facility=host, joined_on=date(2020, 1, 1)))
            db.session.flush()
            for s in range(200):
                start = (now + timedelta(days=1 + s + n * 400)).replace(hour=18)
                session(net, host, start, PLANNED)
            db.session.flush()
        db.session.commit()

        world.session_id = upcoming.id
        world.member_token = token_of(ensure_link(member))
        world.big_member_token = token_of(ensure_link(big_members[50].contacts[0]))
        feed = calendar_services.ensure_feed("contact", subscriber.id)
        db.session.commit()
        world.feed_token = calendar_services.token_of(feed)
        world.counts = {
            "facilities": facility_count,
            "contacts": db.session.query(Contact).count(),
            "sessions": db.session.query(Session).count(),
            "answers": db.session.query(Rsvp).count(),
        }
        db.session.remove()
        db.engine.dispose()
    return world


# --- the server -----------------------------------------------------------------------------


class Server:
    """learnnet under gunicorn with 2 sync workers on a free loopback port."""

    def __init__(self, db_url: str, instance: Path, workers: int = 2) -> None:
        from tests.smtp_server import free_port

        self.port = free_port()
        env = {
            **os.environ,
            "LEARNNET_DATABASE_URL": db_url,
            "LEARNNET_SECRET_KEY": SECRET,
            "LEARNNET_INSTANCE_PATH": str(instance),
        }
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
        config = ROOT / "gunicorn.conf.py"
        if config.exists():
            command += ["--config", str(config)]
        command += ["--bind", f"127.0.0.1:{self.port}", "--backlog", "256", "learnnet:create_app()"]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - read when it fails, closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start:\n{self.output()}")
        for _ in range(50):  # both workers up
            if len(self.workers()) >= workers:
                break
            time.sleep(0.1)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def memory(self) -> dict[int, tuple[float, float, float, float]]:
        """Per worker, in MB: resident now and at its peak (/proc/<pid>/status), its
        proportional share of pages shared with the other processes, and its own pages
        (/proc/<pid>/smaps_rollup: Pss, Private_Clean + Private_Dirty)."""
        found = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            values = dict(re.findall(r"^(\w+):\s+(\d+) kB", status + rollup, re.M))
            mb = {k: int(v) / 1024 for k, v in values.items()}
            own = mb["Private_Clean"] + mb["Private_Dirty"]
            found[pid] = (mb["VmRSS"], mb["VmHWM"], mb["Pss"], own)
        return found

    def cpu_seconds(self) -> float:
        """CPU time the workers have used so far (user + system, from /proc/<pid>/stat)."""
        total = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# --- the client -----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # as the page reads, decompressed
    sent: int = 0  # bytes on the wire


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
) -> Answer:
    """One request over a fresh connection, read to the end."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        body = gzip.decompress(data) if response.headers["Content-Encoding"] == "gzip" else data
        return Answer(response.status, response.headers, body, len(data))
    finally:
        conn.close()


class Browser:
    """Cookies and CSRF tokens, as a browser keeps them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        # What a browser sends; a gzip answer is decompressed by the client (in the time).
        headers = {"Accept-Language": "nl-BE,nl;q=0.9", "Accept-Encoding": "gzip, deflate, br"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _keep(self, answer: Answer) -> Answer:
        for line in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return answer

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self._keep(request(self.port, "GET", path, self._headers(headers)))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        headers = self._headers({"Content-Type": "application/x-www-form-urlencoded"})
        return self._keep(request(self.port, "POST", path, headers, urlencode(data)))

    def login(self, email: str, password: str) -> None:
        token = csrf_token(self.get("/login").body)
        answer = self.post("/login", {"csrf_token": token, "email": email, "password": password})
        if answer.status != 302:
            raise RuntimeError(f"login failed: {answer.status}")


def csrf_token(html: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).decode()


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Page:
    """One thing to measure: a name, how to make one request, the status it must give."""

    name: str
    call: Any  # () -> Answer
    status: int = 200
    html: bool = True
    cpu: Any = None  # () -> CPU seconds used by the server's workers
    before: Any = None  # () -> None, run untimed before each request (a change)
    afresh: bool = False  # measured after a change: rendered anew, not from the page cache
    cache: str = ""  # the X-Page-Cache each answer must carry ("miss": rendered anew)
    warm: int = 0  # untimed requests before a round of a page after a change
    served: dict[str, int] = field(default_factory=dict)  # X-Page-Cache answers, counted
    samples: list[float] = field(default_factory=list)  # sequential latencies, ms
    cpu_ms: list[float] = field(default_factory=list)  # workers' CPU per request, per round
    sequential: list[float] = field(default_factory=list)  # req/s per round
    concurrent: list[float] = field(default_factory=list)  # req/s per round
    size: int = 0
    sent: int = 0

    def once(self, check: bool = True) -> float:
        if self.before:
            self.before()
        start = time.perf_counter()
        answer = self.call()
        elapsed = time.perf_counter() - start
        if answer.status != self.status:
            raise RuntimeError(f"{self.name}: {answer.status}, expected {self.status}")
        served = answer.headers.get("X-Page-Cache") or "-"
        if check:
            self.served[served] = self.served.get(served, 0) + 1
            if self.cache == "miss" and served != "miss":
                # The server says whether it rendered the page: a page "after a change"
                # served from the page cache would measure the cache, not the rendering.
                raise RuntimeError(f"{self.name}: X-Page-Cache {served}, expected miss")
        self.size = len(answer.body)
        self.sent = answer.sent
        return elapsed

    def run_sequential(self, seconds: float) -> None:
        # Untimed: after the previous page's writes each worker renders this page once
        # anew; on a busy machine those two would be a large part of the samples. (A page
        # after a change is rendered anew anyway; the one after an answer elsewhere is
        # asked once so that both workers keep it.)
        for _ in range(self.warm if self.afresh else WARM):
            self.once(check=False)
        latencies = []
        cpu = self.cpu() if self.cpu else 0.0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds or len(latencies) < 5:
            latencies.append(self.once())
        # Requests per second of the timed requests alone: the change made before each
        # request of a page "after a change" is not timed, and is not counted here either.
        self.sequential.append(len(latencies) / sum(latencies))
        if self.cpu:
            self.cpu_ms.append((self.cpu() - cpu) * 1000 / len(latencies))
        self.samples += [x * 1000 for x in latencies]

    def run_concurrent(self, seconds: float, connections: int) -> None:
        done = [0] * connections
        errors: list[BaseException] = []
        start = time.perf_counter()

        def worker(k: int) -> None:
            try:
                while time.perf_counter() - start < seconds or done[k] < 3:
                    self.once()
                    done[k] += 1
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.concurrent.append(sum(done) / (time.perf_counter() - start))

    def median(self) -> float:
        return statistics.median(self.samples)

    def p90(self) -> float:
        return statistics.quantiles(self.samples, n=10)[-1]


def pages(port: int, world: World) -> list[Page]:
    """The pages of issue 11, in the order of the table."""
    facilitator = Browser(port)
    facilitator.login("bench@example.org", PASSWORD)
    member = Browser(port)
    member_path = f"/m/{world.member_token}"
    page = member.get(member_path).body
    token = csrf_token(page)
    forms = [
        m.decode()
        for m in re.findall(rb'<form method="post" action="(/m/[^"]+/sessions/\d+)"', page)
    ]
    answers = iter(
        (form, value) for _ in range(10**6) for form in forms for value in ("yes", "maybe", "no")
    )
    lock = threading.Lock()

    def rsvp() -> Answer:
        with lock:
            form, value = next(answers)
        return member.post(form, {"csrf_token": token, "answer": value})

    # A member of the network of 200 answers for its coming sessions, in turn.
    big_member = Browser(port)
    big_page = big_member.get(f"/m/{world.big_member_token}").body
    big_token = csrf_token(big_page)
    big_forms = [
        m.decode()
        for m in re.findall(rb'<form method="post" action="(/m/[^"]+/sessions/\d+)"', big_page)
    ]
    big_answers = iter(
        (form, value)
        for _ in range(10**6)
        for form in big_forms
        for value in ("yes", "maybe", "no")
    )

    def big_rsvp() -> Answer:
        with lock:
            form, value = next(big_answers)
        return big_member.post(form, {"csrf_token": big_token, "answer": value})

    feed = f"/feeds/{world.feed_token}.ics"
    etag = request(port, "GET", feed).headers["ETag"]
    slug = world.network_slug

    def get(browser: Browser | None, path: str, **headers: str) -> Any:
        if browser is None:
            return lambda: request(port, "GET", path, headers)
        return lambda: browser.get(path, headers)

    html = [
        ("dashboard (10 networks)", get(facilitator, "/")),
        ("network page (200 members)", get(facilitator, f"/networks/{slug}")),
        ("timeline (200 sessions)", get(facilitator, f"/networks/{slug}/sessions")),
        ("session page (40 answers)", get(facilitator, f"/sessions/{world.session_id}")),
        ("facility list (200 of 2,000)", get(facilitator, "/facilities")),
        ("member page (200 sessions)", get(member, member_path)),
    ]

    def change() -> None:
        """A member of the big network answers: its pages (and the dashboard that lists
        it) are out of date; the member page's own member answers before hers."""
        if big_rsvp().status != 303:
            raise RuntimeError("the answer before an 'after a change' request failed")

    def own_change() -> None:
        if rsvp().status != 303:
            raise RuntimeError("the answer before an 'after a change' request failed")

    def elsewhere() -> None:
        """The member of five other networks answers: nothing the big network shows."""
        own_change()

    return [
        Page("/healthz", get(None, "/healthz"), html=False),
        *(Page(name, call) for name, call in html),
        *(
            Page(
                name.split(" (")[0] + ", after a change",
                call,
                before=own_change if name.startswith("member") else change,
                afresh=True,
                cache="miss",
            )
            for name, call in html
            if not name.startswith("facility list")
        ),
        Page(
            "network page, answer elsewhere",
            get(facilitator, f"/networks/{slug}"),
            before=elsewhere,
            afresh=True,
            cache="hit",
            warm=WARM,
        ),
        Page("feed cold (1,000 sessions)", get(None, feed), html=False),
        Page("feed 304", get(None, feed, **{"If-None-Match": etag}), status=304, html=False),
        Page("RSVP answer (POST, 303)", rsvp, status=303, html=False),
    ]


def icalendar_alone(db_url: str, token: str, instance: Path) -> float:
    """Median ms to serialise the feed's 1,000 events with the icalendar library alone."""
    from learnnet import create_app
    from tests.bench import feeds

    url = db_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": SECRET}, instance_path=str(instance / "alone")
    )
    return feeds.icalendar_alone(app, token)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    started = time.monotonic()
    db_url, label = database_url()
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        from learnnet import create_app

        url = db_url or f"sqlite:///{instance / 'bench.sqlite3'}"
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": SECRET, "MAIL_SEND_IMMEDIATELY": False},
            instance_path=str(instance),
        )
        world = seed(app)
        seeded = time.monotonic() - started
        if "--seed-only" in sys.argv:  # leave the data for profiling
            print(f"seeded {label} in {seeded:.0f} s: {world}")
            return
        server = Server(url, instance)
        try:
            measured = pages(server.port, world)
            for p in measured:
                p.cpu = server.cpu_seconds
            for p in measured:  # warm up: templates compiled, caches filled, in both workers
                for _ in range(4):
                    p.once(check=False)
            load_before = load()
            for _ in range(ROUNDS):
                for p in measured:
                    p.run_sequential(SEQUENTIAL_SECONDS)
                    if not p.afresh:  # a change before every request: one at a time
                        p.run_concurrent(CONCURRENT_SECONDS, CONNECTIONS)
            memory = server.memory()
            load_after = load()
        finally:
            server.stop()
        alone = icalendar_alone(db_url, world.feed_token, instance)
        report(measured, memory, alone, label, world, seeded, load_before, load_after, started)
        profile(url, world, instance)


PROFILED = 5  # renders per page


def profile(url: str, world: World, instance: Path, top: int = 8) -> None:
    """Where the time of a page rendered anew after a change goes: cProfile around the
    app in this process (no gunicorn), the page cache on and an answer before each render
    (untimed, outside the profile) as in the table above, the functions with the most own
    time."""
    import cProfile
    import itertools
    import pstats

    from learnnet import create_app

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": False},
        instance_path=str(instance / "profile"),
    )
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
    members = app.test_client()

    def answers(token: str) -> Any:
        page = members.get(f"/m/{token}").data
        forms = re.findall(rb'<form method="post" action="(/m/[^"]+/sessions/\d+)"', page)
        return itertools.cycle([(f.decode(), v) for f in forms for v in ("yes", "maybe", "no")])

    big, own = answers(world.big_member_token), answers(world.member_token)
    slug = world.network_slug
    print(
        f"\nPROFILE: pages rendered anew after an answer, in one process, {PROFILED} renders "
        "each (cProfile)"
    )
    for name, path, changes in (
        ("dashboard", "/", big),
        ("network page", f"/networks/{slug}", big),
        ("timeline", f"/networks/{slug}/sessions", big),
        ("session page", f"/sessions/{world.session_id}", big),
        ("member page", f"/m/{world.member_token}", own),
    ):
        client.get(path)  # templates compiled, the parts kept
        profiler = cProfile.Profile()
        elapsed = 0.0
        for _ in range(PROFILED):
            form, value = next(changes)
            members.post(form, data={"answer": value})
            start = time.perf_counter()
            profiler.enable()
            client.get(path)
            profiler.disable()
            elapsed += time.perf_counter() - start
        stats = pstats.Stats(profiler)
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
        print(
            f"{name}: {elapsed * 1000 / PROFILED:.1f} ms per render under the profiler; most own time:"
        )
        for (file, line, function), (_cc, calls, own_time, _cum, _callers) in rows:
            where = f"{Path(file).name}:{line}" if line else file
            print(
                f"  {own_time * 1000 / PROFILED:>6.1f} ms {calls // PROFILED:>7} calls  "
                f"{function} ({where})"
            )


def report(
    measured: list[Page],
    memory: dict[int, tuple[float, float, float, float]],
    alone: float,
    label: str,
    world: World,
    seeded: float,
    load_before: str,
    load_after: str,
    started: float,
) -> None:
    health = measured[0]
    base_seq = statistics.median(health.sequential)
    base_conc = statistics.median(health.concurrent)
    print(
        f"\nHTTP: gunicorn, 2 sync workers, {label}; {os.cpu_count()} CPUs; "
        f"{ROUNDS} interleaved rounds of {SEQUENTIAL_SECONDS:.0f} s + {CONNECTIONS} connections "
        f"{CONCURRENT_SECONDS:.0f} s per page"
    )
    c = world.counts
    print(
        f"data: {c['facilities']:,} facilities, {c['contacts']:,} contacts, "
        f"{c['sessions']:,} sessions, {c['answers']:,} answers (seeded in {seeded:.0f} s); "
        f"load average {load_before} before, {load_after} after"
    )
    base_cpu = statistics.median(health.cpu_ms)
    print(
        "share: requests per second as a share of /healthz's, one connection and 4; cpu: the\n"
        "workers' CPU time per request, and /healthz's as a share of it (steadier when busy);\n"
        "KB: the page, sent: the bytes on the wire (browsers accept gzip). Pages are asked\n"
        "again and again; 'after a change', a member answers before each request, so that\n"
        "the page cache has nothing to give and the page is rendered anew"
    )
    print(
        f"{'page':<30}{'req/s':>7}{'med ms':>8}{'p90 ms':>8}{'p90/med':>8}{'4-conn':>8}"
        f"{'cpu ms':>8}{'share':>7}{'4-conn':>7}{'cpu':>7}{'KB':>5}{'sent':>6}  target"
    )
    answer = next(p for p in measured if p.status == 303)
    answer_cpu = statistics.median(answer.cpu_ms)
    for p in measured:
        seq = statistics.median(p.sequential)
        conc = statistics.median(p.concurrent) if p.concurrent else 0.0
        share, share_conc = seq / base_seq, conc / base_conc
        cpu = statistics.median(p.cpu_ms)
        if p.afresh:  # the answer made before each request is not the page's work
            cpu = max(cpu - answer_cpu, 0.01)
        ratio = p.p90() / p.median()
        if p is health:
            target = ""
        elif p.afresh:
            target = "(see the first view below)"
        elif p.status == 304:
            target = _verdict(share >= NOT_MODIFIED_TARGET, f"share >= {NOT_MODIFIED_TARGET:.0%}")
        elif p.html:
            target = _verdict(share >= HTML_TARGET, f"share >= {HTML_TARGET:.0%}")
        else:
            target = ""
        if p is not health and not p.afresh:
            target += ("; " if target else "") + _verdict(
                ratio <= P90_TARGET, f"p90 <= {P90_TARGET}x"
            )
        conc_text = f"{conc:>8.1f}" if p.concurrent else f"{'-':>8}"
        share_conc_text = f"{share_conc:>7.1%}" if p.concurrent else f"{'-':>7}"
        print(
            f"{p.name:<30}{seq:>7.1f}{p.median():>8.1f}{p.p90():>8.1f}{ratio:>8.2f}{conc_text}"
            f"{cpu:>8.1f}{share:>7.1%}{share_conc_text}{base_cpu / cpu:>7.1%}"
            f"{p.size / 1024:>5.0f}{p.sent / 1024:>6.0f}  {target}"
        )
    cold = next(p for p in measured if p.name.startswith("feed cold"))
    print(
        f"feed cold {cold.median():.0f} ms against {alone:.0f} ms to serialise the same 1,000 "
        f"events with icalendar alone: {cold.median() / alone:.2f}x  "
        + _verdict(cold.median() / alone <= FEED_TARGET, f"<= {FEED_TARGET}x")
    )
    # The target is the resident memory after the run. The peak is printed beside it: a
    # worker that checked a password peaks about 32 MB higher for a moment, scrypt's
    # working memory (memory-hard by design), given back to the system at once.
    for pid, (rss, peak, pss, own) in sorted(memory.items()):
        print(
            f"worker {pid}: {rss:.0f} MB resident (peak {peak:.0f} MB), of which {own:.0f} MB "
            f"its own and the rest shared (proportional share {pss:.0f} MB)  "
            + _verdict(rss < MEMORY_TARGET_MB, f"resident < {MEMORY_TARGET_MB} MB")
        )
    headline(measured, memory, base_seq)
    print(f"({time.monotonic() - started:.0f} s in all)")


def headline(
    measured: list[Page], memory: dict[int, tuple[float, float, float, float]], base_seq: float
) -> None:
    """Issue 24's view: each page rendered anew after a change (an untimed answer before
    each request) as a share of /healthz and in ms, beside the kept page; its size against
    the budget; the workers' memory."""
    health = measured[0]
    print(
        f"\nTHE FIRST VIEW AFTER A CHANGE (issue 24): rendered anew vs kept; /healthz "
        f"{health.median():.1f} ms, {base_seq:.0f} req/s"
    )
    print(
        f"{'page':<16}{'anew ms':>8}{'p90/med':>8}{'share':>7}  {'kept ms':>7}{'share':>7}"
        f"{'KB':>6}{'budget':>7}  targets (anew share >= {ANEW_TARGET:.0%}, p90 <= "
        f"{P90_TARGET}x, KB <= budget)"
    )
    for name, budget in BUDGETS_KB.items():
        kept = next(p for p in measured if p.name.startswith(name) and not p.afresh)
        anew = next(p for p in measured if p.name == f"{name}, after a change")
        share = statistics.median(anew.sequential) / base_seq
        kept_share = statistics.median(kept.sequential) / base_seq
        ratio = anew.p90() / anew.median()
        size = kept.size / 1024
        ok = share >= ANEW_TARGET and ratio <= P90_TARGET and size <= budget
        print(
            f"{name:<16}{anew.median():>8.1f}{ratio:>8.2f}{share:>7.1%}  {kept.median():>7.1f}"
            f"{kept_share:>7.1%}{size:>6.0f}{budget:>7}  "
            + _verdict(ok, "all three" if ok else _missed(share, ratio, size, budget))
        )
    elsewhere = next((p for p in measured if p.name.endswith("answer elsewhere")), None)
    if elsewhere is not None:
        share = statistics.median(elsewhere.sequential) / base_seq
        kept = elsewhere.served.get("hit", 0)
        print(
            f"network page after an answer in another network: {elsewhere.median():.1f} ms, "
            f"{share:.1%} of /healthz; served kept {kept} of {sum(elsewhere.served.values())} "
            "times (a worker that had not kept it yet renders it anew)"
        )
    for pid, (rss, _peak, _pss, own) in sorted(memory.items()):
        print(
            f"worker {pid}: {rss:.0f} MB resident, {own:.0f} MB its own  "
            + _verdict(rss <= ANEW_MEMORY_TARGET_MB, f"<= {ANEW_MEMORY_TARGET_MB} MB")
        )


def _missed(share: float, ratio: float, size: float, budget: int) -> str:
    parts = []
    if share < ANEW_TARGET:
        parts.append(f"share {share:.1%} < {ANEW_TARGET:.0%}")
    if ratio > P90_TARGET:
        parts.append(f"p90/med {ratio:.2f}")
    if size > budget:
        parts.append(f"{size:.0f} KB > {budget} KB")
    return ", ".join(parts)


def _verdict(ok: bool, text: str) -> str:
    return f"{'ok' if ok else 'MISSED'} ({text})"


if __name__ == "__main__":
    main()
