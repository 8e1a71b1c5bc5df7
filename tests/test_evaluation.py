"""The evaluation (issue 23.5): its pure rules, the mail to who was checked in, answering
once through the personal link, the results without names, CSV, privacy."""

from __future__ import annotations

import csv
import io
import statistics
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from learnnet.attendance import services as attendance
from learnnet.extensions import db
from learnnet.learning import evaluation as rules
from learnnet.learning import evaluation_services as services
from learnnet.learning.evaluation_models import (
    EvaluationAnswer,
    EvaluationResponse,
    EvaluationSetting,
)
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.privacy import services as privacy
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for

T0 = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2, minutes=30)


# --- the pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (["useful", "take_away"], None),
        (["useful", "take_away", "try_out", "missed"], None),
        (["useful"], rules.TOO_FEW),
        ([], rules.TOO_FEW),
        (["useful", "practice", "exchange", "take_away", "try_out"], rules.TOO_MANY),
        (["useful", "useful"], rules.TWICE),
        (["useful", "nonsense"], rules.UNKNOWN),
    ],
)
def test_a_network_chooses_two_to_four_known_questions_once_each(keys, problem):
    assert rules.choice_problem(keys) == problem


def test_the_stored_choice_keeps_its_order_and_falls_back_to_the_defaults():
    assert rules.parse_choice("try_out,useful") == ("try_out", "useful")
    assert rules.parse_choice("retired,try_out,useful,try_out") == ("try_out", "useful")
    assert rules.parse_choice("useful") == rules.DEFAULT
    assert rules.parse_choice(None) == rules.DEFAULT
    assert rules.parse_choice(rules.store_choice(["missed", "exchange"])) == ("missed", "exchange")


def _closed(**overrides):
    values = {
        "present": True,
        "cancelled": False,
        "enabled": True,
        "answered": False,
        "starts_at": T0,
        "ends_at": T1,
        "now": T1 + timedelta(hours=1),
    }
    return rules.closed_reason(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, None),
        ({"now": T0}, None),  # checked in, during the session
        ({"now": T1 + timedelta(days=rules.ANSWER_DAYS)}, None),
        ({"present": False}, rules.NOT_PRESENT),
        ({"answered": True}, rules.ANSWERED),
        ({"cancelled": True}, rules.CANCELLED),
        ({"enabled": False}, rules.OFF),
        ({"now": T0 - timedelta(minutes=1)}, rules.NOT_YET),
        ({"now": T1 + timedelta(days=rules.ANSWER_DAYS, seconds=1)}, rules.TOO_LATE),
        ({"present": False, "answered": True}, rules.NOT_PRESENT),
    ],
)
def test_only_who_was_checked_in_answers_once_in_time(overrides, reason):
    assert _closed(**overrides) == reason


def test_the_mail_goes_from_the_end_for_two_weeks():
    assert not rules.mail_due(T1, T1 - timedelta(seconds=1))
    assert rules.mail_due(T1, T1)
    assert rules.mail_due(T1, T1 + timedelta(days=rules.MAIL_DAYS))
    assert not rules.mail_due(T1, T1 + timedelta(days=rules.MAIL_DAYS, seconds=1))


def test_clean_reads_scores_texts_and_shares_only_what_was_written():
    form = {
        "score-useful": "4",
        "text-take_away": "  Rustige wenmomenten  ",
        "share-take_away": "1",
        "text-try_out": "",
        "share-try_out": "1",  # nothing written: nothing to share
        "score-practice": "5",  # not asked: ignored
    }
    answered, problems = rules.clean(form, ("useful", "take_away", "try_out"))
    assert problems == {}
    assert answered == [
        rules.Given("useful", score=4),
        rules.Given("take_away", text="Rustige wenmomenten", share=True),
    ]


@pytest.mark.parametrize(
    ("form", "problems"),
    [
        ({}, {"": rules.EMPTY}),
        ({"score-useful": "  "}, {"": rules.EMPTY}),
        ({"score-useful": "6"}, {"useful": rules.BAD_SCORE}),
        ({"score-useful": "0"}, {"useful": rules.BAD_SCORE}),
        ({"score-useful": "4.5"}, {"useful": rules.BAD_SCORE}),
        ({"text-take_away": "x" * (rules.MAX_TEXT + 1)}, {"take_away": rules.TOO_LONG}),
    ],
)
def test_clean_refuses_an_empty_answer_a_bad_score_and_a_long_text(form, problems):
    assert rules.clean(form, ("useful", "take_away"))[1] == problems


answers_strategy = st.lists(
    st.tuples(
        st.integers(1, 6),  # response
        st.sampled_from([q.key for q in rules.QUESTIONS]),
        st.integers(1, 5),
        st.text(max_size=5),
        st.booleans(),
    ),
    max_size=40,
)


@given(answers_strategy)
def test_summaries_add_up_against_a_recount(raw):
    answers = []
    for response, question, score, text, share in raw:
        scale = rules.BY_KEY[question].kind == rules.SCALE
        answers.append(
            rules.Answer(
                response,
                1,
                question,
                score if scale else None,
                "" if scale else text,
                share and not scale,
            )
        )
    chosen = ("try_out", "useful")
    summaries = rules.summarise(answers, chosen)
    keys = [s.key for s in summaries]
    assert keys[:2] == list(chosen)
    assert len(keys) == len(set(keys))
    for s in summaries:
        mine = [a for a in answers if a.question == s.key]
        if s.kind == rules.SCALE:
            scores = [a.score for a in mine]
            assert s.count == len(scores)
            assert s.distribution == {n: scores.count(n) for n in rules.SCORES}
            if scores:
                assert s.average == pytest.approx(statistics.mean(scores))
            else:
                assert s.average is None
        else:
            assert s.texts == [(a.text, a.share) for a in mine if a.text]
    answered = {a.question for a in answers if a.score is not None or a.text}
    assert set(keys) == set(chosen) | answered
    assert rules.respondents(answers) == len({a.response_id for a in answers})


# --- a held session with people checked in ----------------------------------------------------


@pytest.fixture
def held(app, network):
    """A session that ended an hour ago: Sofie and an English-speaking Jan were checked in,
    Hanne was absent, Piet (no address) was present."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    start = utcnow() - timedelta(hours=3, minutes=30)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2, minutes=30)
    )
    jan = factories.contact(ukkepuk, name="Jan Peeters", preferred_language="en")
    piet = factories.contact(ukkepuk, name="Piet Geen-Adres", email="")
    db.session.commit()
    people = {c.name.split()[0]: c for c in (*zonnebloem.contacts, jan, piet)}
    for name, status in (("Sofie", "present"), ("Jan", "present"), ("Hanne", "absent")):
        attendance.record(session, people[name], status, via="facilitator")
    attendance.record(session, piet, "present", via="facilitator")
    return session, people


def _mails():
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == services.EVALUATION)
            .order_by(OutboxMessage.recipient)
        )
    )


def test_the_mail_goes_once_to_who_was_checked_in_in_their_language(app, held):
    session, people = held
    with app.test_request_context(base_url="https://learnnet.example.org"):
        assert services.ask(session) == 2
        assert services.ask(session) == 0
        assert services.send_due() == 0
    mails = _mails()
    assert [m.recipient for m in mails] == [people["Jan"].email, "sofie@example.org"]
    jan, sofie = mails
    assert jan.subject.startswith("How was it?")
    assert sofie.subject.startswith("Hoe was het?")
    token = token_for(people["Sofie"])
    assert f"/m/{token}/sessions/{session.id}/evaluation" in sofie.text_body
    assert "Hanne" not in " ".join(m.recipient_name for m in mails)


def test_cron_asks_after_the_end_and_a_late_check_in_gets_it_at_the_next_run(app, held):
    session, people = held
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders", "--no-send"])
    assert first.exit_code == 0, first.output
    assert "2 evaluation mails queued" in first.output
    attendance.record(session, people["Hanne"], "present", via="facilitator")
    again = runner.invoke(args=["send-reminders", "--no-send"])
    assert "1 evaluation mails queued" in again.output
    assert len(_mails()) == 3
    assert "0 evaluation mails queued" in runner.invoke(args=["send-reminders"]).output


def test_no_mail_before_the_end_for_a_cancelled_session_or_when_switched_off(app, held):
    session, _people = held
    with app.test_request_context():
        assert services.send_due(now=session.ends_at - timedelta(minutes=1)) == 0
        assert services.send_due(now=session.ends_at + timedelta(days=15)) == 0
        db.session.add(
            EvaluationSetting(network_id=session.network_id, enabled=False, questions="")
        )
        db.session.commit()
        assert services.ask(session) == 0
        db.session.delete(db.session.scalar(select(EvaluationSetting)))
        session.status = "cancelled"
        db.session.commit()
        assert services.ask(session) == 0
    assert _mails() == []


def _answer_url(token, session):
    return f"/m/{token}/sessions/{session.id}/evaluation"


def test_a_member_who_was_there_answers_once(app, client, held):
    session, people = held
    token = token_for(people["Sofie"])
    page = client.get(_answer_url(token, session))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hoe nuttig was deze bijeenkomst?" in html
    assert "Wat neem je mee?" in html and "Wat ga je uitproberen?" in html
    assert "Deel dit in het jaaroverzicht van onze voorziening" in html
    data = {"score-useful": "5", "text-take_away": "Rustig wennen", "share-take_away": "1"}
    sent = client.post(_answer_url(token, session), data=data)
    assert sent.status_code == 303
    assert sent.location.endswith(f"/m/{token}#evaluation")
    again = client.post(_answer_url(token, session), data={"score-useful": "1"})
    assert again.status_code == 303
    follow = client.get(again.location).get_data(as_text=True)
    assert "al geëvalueerd" in follow
    rows = db.session.scalars(select(EvaluationAnswer).order_by(EvaluationAnswer.question)).all()
    assert [(a.question, a.score, a.text, a.share) for a in rows] == [
        ("take_away", None, "Rustig wennen", True),
        ("useful", 5, "", False),
    ]
    response = db.session.scalar(select(EvaluationResponse))
    assert response.facility_id == people["Sofie"].facility_id
    assert client.get(_answer_url(token, session)).status_code == 303  # answered: no form


def test_who_was_not_checked_in_cannot_answer(app, client, held):
    session, people = held
    for name in ("Hanne",):  # recorded absent
        token = token_for(people[name])
        page = client.get(_answer_url(token, session))
        assert page.status_code == 303
        assert "Alleen wie ingecheckt was" in client.get(page.location).get_data(as_text=True)
        assert (
            client.post(_answer_url(token, session), data={"score-useful": "3"}).status_code == 303
        )
    other = factories.contact(people["Sofie"].facility, name="Nooit Geweest")
    db.session.commit()
    token = token_for(other)
    assert client.post(_answer_url(token, session), data={"score-useful": "3"}).status_code == 303
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) == 0
    assert client.get(f"/m/{token}/sessions/999999/evaluation").status_code == 404


def test_a_bad_answer_is_named_next_to_the_field_and_what_was_typed_stays(app, client, held):
    session, people = held
    token = token_for(people["Sofie"])
    page = client.post(
        _answer_url(token, session),
        data={"score-useful": "9", "text-take_away": "Mijn <b>tekst</b>", "share-take_away": "1"},
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Kies een score van 1 tot 5." in html
    assert 'id="error-useful"' in html
    assert "Mijn &lt;b&gt;tekst&lt;/b&gt;</textarea>" in html
    assert 'name="share-take_away" value="1" checked' in html
    empty = client.post(_answer_url(token, session), data={})
    assert empty.status_code == 400
    assert "Beantwoord minstens één vraag." in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) == 0


def _answer(session, contact, score, text, share=False):
    return services.submit(
        session,
        contact,
        [rules.Given("useful", score=score), rules.Given("take_away", text=text, share=share)],
    )


def test_the_facilitator_sees_counts_averages_and_texts_without_names(app, logged_in, held):
    session, people = held
    _answer(session, people["Sofie"], 5, "Een vaste knuffel helpt", share=True)
    _answer(session, people["Jan"], 2, "Meer tijd voor vragen")
    page = logged_in.get(f"/sessions/{session.id}/evaluation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2 van 3 mensen die er waren, antwoordden." in html
    assert "3,5" in html  # the average of 5 and 2
    assert "Een vaste knuffel helpt" in html and "Meer tijd voor vragen" in html
    assert "voor het jaaroverzicht" in html
    for name in ("Sofie", "Jan Peeters", "Claes"):
        assert name not in html
    box = logged_in.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'id="evaluation"' in box and "2 evaluaties ontvangen" in box


def test_another_networks_facilitator_sees_nothing(app, client, held):
    session, people = held
    _answer(session, people["Sofie"], 4, "Geheim van De Zonnebloem")
    other = factories.user(email="ander@example.org", name="Ander")
    theirs = factories.network(facilitators=[other], name="Ander netwerk")
    db.session.commit()
    login(client, other.email)
    network = session.network
    for url in (
        f"/sessions/{session.id}/evaluation",
        f"/sessions/{session.id}/evaluation.csv",
        f"/networks/{network.slug}/evaluation",
        f"/networks/{network.slug}/evaluation.csv",
        f"/networks/{network.slug}/evaluation/questions",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/sessions/{session.id}/evaluation/ask").status_code == 403
    own = client.get(f"/networks/{theirs.slug}/evaluation").get_data(as_text=True)
    assert "Geheim" not in own


def test_members_never_see_anyone_elses_answers(app, client, held):
    """Every page a personal link opens, for the session and without it: no other
    person's answer appears, whoever holds the link."""
    from learnnet.access import PERSONAL_LINK

    session, people = held
    _answer(session, people["Jan"], 1, "Jans eigen gedachte", share=True)
    checked = 0
    for name in ("Sofie", "Hanne"):
        token = token_for(people[name])
        values = {"token": token, "session_id": session.id}
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if getattr(view, "access_rule", None) != PERSONAL_LINK or "GET" not in rule.methods:
                continue
            if not set(rule.arguments) <= set(values):
                continue
            url = rule.build(values, append_unknown=False)[1]
            response = client.get(url, follow_redirects=True)
            assert response.status_code < 500, url
            if response.content_type.startswith("text/"):
                assert "Jans eigen gedachte" not in response.get_data(as_text=True), url
            checked += 1
    assert checked >= 8


def test_the_member_page_offers_the_evaluation_until_it_is_answered(app, client, held):
    session, people = held
    token = token_for(people["Sofie"])
    page = client.get(f"/m/{token}").get_data(as_text=True)
    assert f"/m/{token}/sessions/{session.id}/evaluation" in page
    absent = token_for(people["Hanne"])
    assert "/evaluation" not in client.get(f"/m/{absent}").get_data(as_text=True)
    _answer(session, people["Sofie"], 4, "")
    assert "/evaluation" not in client.get(f"/m/{token}").get_data(as_text=True)


def test_csv_lists_every_answer_without_names_and_defuses_formulas(app, logged_in, held):
    session, people = held
    _answer(session, people["Sofie"], 4, '=HYPERLINK("http://x")', share=True)
    _answer(session, people["Jan"], 3, "@SUM(1)")
    for url in (
        f"/sessions/{session.id}/evaluation.csv?variant=comma",
        f"/networks/{session.network.slug}/evaluation.csv?variant=comma",
    ):
        response = logged_in.get(url)
        assert response.status_code == 200, url
        assert response.content_type.startswith("text/csv")
        text = response.get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][3:] == [
            "Vraag",
            "Score (1–5)",
            "Antwoord",
            "Gedeeld voor het jaaroverzicht",
        ]
        body = sorted(rows[1:], key=lambda r: (r[3], r[4], r[5]))
        assert [(r[4], r[5], r[6]) for r in body] == [
            ("3", "", ""),
            ("4", "", ""),
            ("", '\'=HYPERLINK("http://x")', "ja"),
            ("", "'@SUM(1)", ""),
        ]
        assert "Sofie" not in text and "Jan" not in text
    excel = logged_in.get(f"/sessions/{session.id}/evaluation.csv")
    assert excel.data.startswith(b"\xef\xbb\xbf") and b";" in excel.data


def test_the_werkjaar_counts_its_own_sessions_only(app, logged_in, held, network):
    session, people = held
    _answer(session, people["Sofie"], 4, "Dit werkjaar")
    # A session of the previous werkjaar with its own answer.
    from learnnet.attendance.rules import werkjaar_of
    from learnnet.timefmt import local_today

    first_day, _last = werkjaar_of(local_today())
    old_start = datetime(first_day.year - 1, 10, 1, 18, 0, tzinfo=UTC)
    old = factories.session(
        network, session.host, starts_at=old_start, ends_at=old_start + timedelta(hours=2)
    )
    db.session.commit()
    attendance.record(old, people["Jan"], "present", via="facilitator", now=old_start)
    db.session.add(
        EvaluationResponse(
            session_id=old.id,
            contact_id=people["Jan"].id,
            answers=[EvaluationAnswer(question="useful", score=1)],
        )
    )
    db.session.commit()
    results = services.werkjaar_results(network, *werkjaar_of(local_today()))
    assert [r.session.id for r in results.rows] == [session.id]
    assert results.responded == 1 and results.present == 3
    useful = next(s for s in results.summaries if s.key == "useful")
    assert (useful.count, useful.average) == (1, 4)
    page = logged_in.get(f"/networks/{network.slug}/evaluation").get_data(as_text=True)
    assert "Dit werkjaar" in page
    label = f"{first_day.year - 1}-{first_day.year}"
    before = logged_in.get(f"/networks/{network.slug}/evaluation?period={label}")
    assert before.status_code == 200
    html = before.get_data(as_text=True)
    assert "Dit werkjaar" not in html and "1,0" in html


def test_the_facilitator_chooses_the_questions_and_their_order(app, logged_in, held, network):
    session, people = held
    url = f"/networks/{network.slug}/evaluation/questions"
    assert logged_in.get(url).status_code == 200
    saved = logged_in.post(
        url, data={"enabled": "1", "place-try_out": "1", "place-exchange": "2", "place-missed": "3"}
    )
    assert saved.status_code == 303
    assert services.choice_of(network).keys == ("try_out", "exchange", "missed")
    token = token_for(people["Sofie"])
    form = logged_in.get(_answer_url(token, session)).get_data(as_text=True)
    assert form.index("Wat ga je uitproberen?") < form.index("uitwisseling") < form.index("miste")
    assert "Hoe nuttig" not in form
    too_few = logged_in.post(url, data={"enabled": "1", "place-try_out": "1"})
    assert too_few.status_code == 400
    assert "Kies minstens 2 vragen." in too_few.get_data(as_text=True)
    twice = logged_in.post(url, data={"enabled": "1", "place-useful": "1", "place-missed": "1"})
    assert twice.status_code == 400
    wrong = logged_in.post(url, data={"place-useful": "9", "place-missed": "x"})
    assert wrong.status_code == 400
    assert services.choice_of(network).keys == ("try_out", "exchange", "missed")
    off = logged_in.post(url, data={"place-useful": "1", "place-missed": "2"})
    assert off.status_code == 303
    assert services.choice_of(network).enabled is False
    assert logged_in.get(_answer_url(token, session)).status_code == 303


def test_export_holds_the_answers_and_erasure_keeps_only_the_scores(app, held):
    session, people = held
    sofie = people["Sofie"]
    _answer(session, sofie, 5, "Persoonlijke tekst", share=True)
    data = privacy.export(sofie)
    assert data["evaluations"][0]["answers"] == [
        {"question": "useful", "score": 5, "text": "", "shared_for_yearly_record": False},
        {
            "question": "take_away",
            "score": None,
            "text": "Persoonlijke tekst",
            "shared_for_yearly_record": True,
        },
    ]
    privacy.erase(sofie)
    db.session.expire_all()
    response = db.session.scalar(select(EvaluationResponse))
    assert response.contact_id is None
    assert [(a.question, a.score, a.text) for a in response.answers] == [("useful", 5, "")]
    assert services.session_results(session).responded == 1
    assert privacy.export(sofie)["evaluations"] == []


def test_merging_a_duplicate_keeps_one_evaluation_per_session(app, held):
    session, people = held
    sofie = people["Sofie"]
    twin = factories.contact(sofie.facility, name="Sofie Claes (2)", email="sofie2@example.org")
    db.session.commit()
    attendance.record(session, twin, "present", via="facilitator")
    _answer(session, sofie, 5, "De echte")
    _answer(session, twin, 1, "De dubbele")
    privacy.merge_contacts(twin, sofie)
    texts = db.session.scalars(select(EvaluationAnswer.text).where(EvaluationAnswer.text != ""))
    assert list(texts) == ["De echte"]
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) == 1


def test_two_answers_at_once_make_one(app, held, db_url):
    """Two submits at the same moment (a double tap, two tabs): the database keeps one."""
    session, people = held
    session_id, contact_id = session.id, people["Sofie"].id
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        with app.app_context():
            from learnnet.networks.models import Contact
            from learnnet.sessions.models import Session

            s = db.session.get(Session, session_id)
            c = db.session.get(Contact, contact_id)
            assert services.closed_reason(s, c) is None  # both pass the check first
            barrier.wait()
            try:
                services.submit(s, c, [rules.Given("useful", score=3)])
                outcomes.append("saved")
            except services.EvaluationError as exc:
                db.session.rollback()
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["answered", "saved"]
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) == 1


def test_markup_in_the_evaluation_mail_is_text(app, held):
    """tests/test_mail_escaping.py's rule for this kind: what users typed shows as text."""
    from tests.test_mail_escaping import MARKUP, OWN_TAGS, Tags, marked

    session, people = held
    session.network.name = marked("network")
    people["Sofie"].name = marked("contact")
    session.network.facilitators[0].name = marked("facilitator")
    db.session.commit()
    with app.test_request_context(base_url="https://learnnet.example.org"):
        message = services.evaluation_mail(session, people["Sofie"])
    parser = Tags()
    parser.feed(message.html_body)
    assert parser.tags <= OWN_TAGS
    assert "onerror" not in parser.attributes
    for markup in MARKUP:
        assert markup not in message.html_body
    assert "&lt;b&gt;x&lt;/b&gt;network" in message.html_body
    assert marked("network") in message.text_body and marked("contact") in message.text_body
    assert "&lt;" not in message.text_body
