"""The read endpoints under ``/api/v1/``: load arguments, check the token, call a
service, return plain data that the schemas dump (and document)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Flask, abort, current_app, g, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from learnnet.access import API_TOKEN, requires, use_locale
from learnnet.api import problems, rules, services
from learnnet.api import schemas as s
from learnnet.api.paths import API_PREFIX
from learnnet.extensions import csrf
from learnnet.models import utcnow

DESCRIPTION = """Read learnnet's networks, member facilities, memberships, contacts,
sessions, answers and attendance, e.g. to sync a CRM or list sessions on a website; and
write facilities, contacts, memberships (join, leave) and answers on someone's behalf.

Every request carries `Authorization: Bearer <token>`. A facilitator or admin makes a
token on their account page (Mijn account → API-sleutels): it sees only the networks
chosen for it (and only while its owner facilitates them); contacts, answers and
attendance only when it was made with "may see people".

Lists come in pages: pass the `next_cursor` of a page as `cursor` for the next one
(null: the last page). `updated_since` returns only rows changed at or after a moment,
for syncing. Errors are `application/problem+json` (RFC 9457), in the token owner's
language, with a message per field in `errors` for bad input.

`/deletions` lists what is gone since a moment (sessions, memberships and, for tokens
that may see people, contacts erased on request, answers and attendance): ids and the
moment only, so a CRM removes them too.

`/facilities/{id}/record` is a facility's yearly record (jaaroverzicht) per network, with
the sums of the record page, its PDF and CSV; networks carry the current werkjaar's theme.

Webhooks tell a receiver at once when sessions, answers, attendance or memberships
change. An admin registers them on the site (/admin/webhooks) or here (`/webhooks`, with
a read-and-write token of an admin; other tokens get 403).

Writes (POST, PATCH) need a token made with "read and write" (a read token gets 403)
and change only the token's networks; contacts and answers only with "may see people".
They apply the rules of the site's forms and CSV import, and each is in the audit trail
under the token's name. Bad values: 422 with a message per field; a conflict with what
is stored (the same facility twice, an e-mail address already used there, already a
member): 409.

Not yet in the API: learning content (programmes, minutes, materials, evaluations)."""

ERROR_CODES = (400, 401, 403, 404, 405, 409, 422, 429)


class ProblemApi(Api):
    """flask-smorest, with errors documented as problem details. Its own JSON error
    handler is left out: the app factory answers every error under ``/api/`` with
    :func:`learnnet.api.problems.from_exception` (the site's HTML pages keep theirs)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        for code in ERROR_CODES:
            status = HTTPStatus(code)
            response = {"description": status.phrase, "schema": s.Problem}
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            if code == 405:
                response["headers"] = {
                    "Allow": {"schema": {"type": "string"}, "description": "Allowed methods."}
                }
            self.spec.components.response(status.name, response, lazy=True)


bp = Blueprint("api", __name__, url_prefix=API_PREFIX, description="Reads and writes (issue 26)")


def register(app: Flask) -> ProblemApi:
    """Make the app's Api (one per app) and register the endpoints in it."""
    app.config.setdefault("API_TITLE", "learnnet")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config["OPENAPI_URL_PREFIX"] = None  # the document is served by learnnet.api.docs
    api = ProblemApi(
        spec_kwargs={
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/", "description": "this learnnet"}],
            "security": [{"bearer": []}],
        }
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API token (lnt_…)."}
    )
    api.register_converter(
        type(app.url_map.converters["int"](app.url_map)),
        lambda converter: {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    )
    csrf.exempt(bp)  # tokens, not cookies: there is no session to forge a request with
    api.register_blueprint(bp)
    app.extensions["learnnet-api"] = api
    return api


def _errors(*codes: int) -> Callable[[Any], Any]:
    """Document the problem responses an endpoint may give."""

    def decorator(view: Any) -> Any:
        for code in codes:
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def _rate_limited(token_id: int) -> bool:
    from limits import parse

    from learnnet.extensions import counters

    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    limit = parse(current_app.config["API_RATE_LIMIT"])
    return not counters.hit(limit, "api-token", str(token_id))


@bp.before_request
def _authenticate() -> None:
    """The bearer token is the only identity here: a login cookie opens nothing."""
    from learnnet.access import _token_miss_guard
    from learnnet.extensions import counters

    secret = rules.bearer(request.headers.get("Authorization"))
    token, known = services.authenticate(secret) if secret else (None, False)
    if token is None:
        if secret is not None and not known:  # a made-up token: guessing costs, as for
            # personal links; an expired or revoked one is no guess
            limit, key, enabled = _token_miss_guard()
            if enabled and not counters.hit(limit, *key):
                abort(429)
        abort(401)
    if _rate_limited(token.id):
        abort(429)
    g.api_token = token
    # A write is the owner's, named in the audit trail by the token (learnnet.audit.trail).
    g.audit_actor = (token.user, None)
    g.audit_actor_name = f"{token.name} (API)"[:120]
    languages = list(current_app.config["LANGUAGES"])
    use_locale(token.user.locale if token.user.locale in languages else languages[0])
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not token.can_write:
            abort(403, description=problems.READ_ONLY)
        if request.endpoint in rules.PEOPLE_WRITES and not token.may_see_people:
            abort(403, description=problems.PEOPLE)


@bp.after_request
def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _query(args: dict[str, Any]) -> services.Query:
    token = g.api_token
    cursor = args.pop("cursor", None)
    size = args.pop("limit", rules.PAGE_SIZE)
    return services.Query(
        network_ids=tuple(services.visible_network_ids(token)),
        after=rules.decode_cursor(cursor) if cursor else 0,
        size=size,
        **args,
    )


def _people() -> None:
    if not g.api_token.may_see_people:
        abort(403, description=problems.PEOPLE)


def _page(rows: list[Any], cursor: str | None, out: Callable[[Any], Any] = lambda r: r) -> Any:
    return {"data": [out(r) for r in rows], "next_cursor": cursor}


def _theme(theme: Any) -> dict[str, Any] | None:
    if theme is None:
        return None
    return {
        "id": theme.id,
        "start_year": theme.start_year,
        "werkjaar": f"{theme.start_year}-{theme.start_year + 1}",
        "title": theme.title,
        "description": theme.description or "",
        "goals": [{"id": g.id, "text": g.text} for g in theme.goals],
    }


def _networks(rows: list[Any]) -> list[dict[str, Any]]:
    themes = services.current_themes([n.id for n in rows])
    plain = [k for k in s.NetworkOut._declared_fields if k not in ("facilitators", "theme")]
    return [
        {
            **{k: getattr(n, k) for k in plain},
            "facilitators": [{"id": f.id, "name": f.name} for f in n.facilitators],
            "theme": _theme(themes.get(n.id)),
        }
        for n in rows
    ]


def _sessions(rows: list[Any]) -> list[dict[str, Any]]:
    counts = services.answer_counts([r.id for r in rows])
    now = utcnow()
    plain = [k for k in s.SessionOut._declared_fields if k not in ("status", "host", "answers")]
    return [
        {
            **{k: getattr(r, k) for k in plain if hasattr(r, k)},
            "status": r.display_status(now),
            "host": {"id": r.host.id, "name": r.host.name, "address": r.host.address},
            "host_confirmed": r.host_confirmed_at is not None,
            "answers": counts.get(r.id, services.Counts()).__dict__,
        }
        for r in rows
    ]


def _answer(r: Any) -> dict[str, Any]:
    return {
        **{k: getattr(r, k) for k in ("id", "session_id", "contact_id", "answer", "waitlisted")},
        "contact_name": r.contact.name,
        "facility_id": r.contact.facility_id,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


@bp.route("/networks")
@bp.arguments(s.ListArgs, location="query", as_kwargs=True)
@bp.response(200, s.NetworkPage)
@_errors(400, 401, 405, 429)
@requires(API_TOKEN)
def networks(**args: Any) -> Any:
    """The networks this token may see, with their facilitators and current theme."""
    rows, cursor = services.networks(_query(args))
    return {"data": _networks(rows), "next_cursor": cursor}


@bp.route("/networks/<int:network_id>")
@bp.response(200, s.NetworkOut)
@_errors(400, 401, 404, 405, 429)
@requires(API_TOKEN)
def network(network_id: int) -> Any:
    """One network, with its facilitators and the theme of the current werkjaar."""
    found = services.network(_query({}), network_id)
    if found is None:
        abort(404)
    return _networks([found])[0]


@bp.route("/facilities")
@bp.arguments(s.FacilityListArgs, location="query", as_kwargs=True)
@bp.response(200, s.FacilityPage)
@_errors(400, 401, 405, 429)
@requires(API_TOKEN)
def facilities(**args: Any) -> Any:
    """Facilities that are or were members of the token's networks."""
    return _page(*services.facilities(_query(args)))


@bp.route("/facilities/<int:facility_id>")
@bp.response(200, s.FacilityOut)
@_errors(400, 401, 404, 405, 429)
@requires(API_TOKEN)
def facility(facility_id: int) -> Any:
    """One facility that is or was a member of one of the token's networks."""
    found = services.facility(_query({}), facility_id)
    if found is None:
        abort(404)
    return found


@bp.route("/memberships")
@bp.arguments(s.MembershipListArgs, location="query", as_kwargs=True)
@bp.response(200, s.MembershipPage)
@_errors(400, 401, 405, 429)
@requires(API_TOKEN)
def memberships(**args: Any) -> Any:
    """Memberships of the token's networks, with their join and leave dates."""
    return _page(*services.memberships(_query(args)))


@bp.route("/contacts")
@bp.arguments(s.ContactListArgs, location="query", as_kwargs=True)
@bp.response(200, s.ContactPage)
@_errors(400, 401, 403, 405, 429)
@requires(API_TOKEN)
def contacts(**args: Any) -> Any:
    """Contacts of the current member facilities (tokens that may see people only)."""
    _people()
    return _page(*services.contacts(_query(args)))


@bp.route("/contacts/<int:contact_id>")
@bp.response(200, s.ContactOut)
@_errors(400, 401, 403, 404, 405, 429)
@requires(API_TOKEN)
def contact(contact_id: int) -> Any:
    """One contact (tokens that may see people only)."""
    _people()
    found = services.contact(_query({}), contact_id)
    if found is None:
        abort(404)
    return found


@bp.route("/sessions")
@bp.arguments(s.SessionListArgs, location="query", as_kwargs=True)
@bp.response(200, s.SessionPage)
@_errors(400, 401, 405, 429)
@requires(API_TOKEN)
def sessions(**args: Any) -> Any:
    """Sessions of the token's networks, with host, times, status and answer counts."""
    rows, cursor = services.sessions(_query(args))
    return {"data": _sessions(rows), "next_cursor": cursor}


@bp.route("/sessions/<int:session_id>")
@bp.response(200, s.SessionOut)
@_errors(400, 401, 404, 405, 429)
@requires(API_TOKEN)
def session(session_id: int) -> Any:
    """One session, with host, times, status and answer counts."""
    found = services.session(_query({}), session_id)
    if found is None:
        abort(404)
    return _sessions([found])[0]


@bp.route("/answers")
@bp.arguments(s.SessionRowArgs, location="query", as_kwargs=True)
@bp.response(200, s.AnswerPage)
@_errors(400, 401, 403, 405, 429)
@requires(API_TOKEN)
def answers(**args: Any) -> Any:
    """Answers (RSVPs) to the sessions of the token's networks (may see people only)."""
    _people()
    return _page(*services.answers(_query(args)), _answer)


@bp.route("/attendance")
@bp.arguments(s.SessionRowArgs, location="query", as_kwargs=True)
@bp.response(200, s.AttendancePage)
@_errors(400, 401, 403, 405, 429)
@requires(API_TOKEN)
def attendance(**args: Any) -> Any:
    """Attendance recorded at the sessions of the token's networks (may see people only)."""
    _people()
    return _page(*services.attendance(_query(args)))


def _record(page: Any) -> dict[str, Any]:
    """A record page's sums as the API gives them; names only for tokens that may see
    people (as the record page shows them only to those who may)."""
    r = page.record
    names = page.show_names
    return {
        "network_id": page.network.id,
        "facility_id": page.facility.id,
        "start_year": r.start_year,
        "werkjaar": r.label,
        "first_day": r.first_day,
        "last_day": r.last_day,
        "theme": page.theme,
        "goals_total": page.goals_total,
        "member_from": r.member_from,
        "member_until": r.member_until,
        "held_as_member": r.held_as_member,
        "sessions_attended": len(r.attended),
        "total_hours": r.total_hours,
        "action_points_done": r.action_points_done,
        "attended": [
            {
                "session_id": a.session_id,
                "day": a.day,
                "title": a.title,
                "host_name": a.host_name,
                "hours": a.hours,
                "people_present": len(a.people),
                "people": list(a.people) if names else None,
            }
            for a in r.attended
        ],
        "people": [p.__dict__ for p in r.people] if names else None,
        "hosted": [h.__dict__ for h in r.hosted],
        "goals": [g.__dict__ for g in r.goals],
        "action_points": [
            {**a.__dict__, "owner_name": a.owner_name if names else None, "notes": list(a.notes)}
            for a in r.action_points
        ],
        "quotes": [q.__dict__ for q in r.quotes],
    }


@bp.route("/facilities/<int:facility_id>/record")
@bp.arguments(s.RecordArgs, location="query", as_kwargs=True)
@bp.response(200, s.RecordList)
@_errors(400, 401, 404, 405, 429)
@requires(API_TOKEN)
def facility_record(facility_id: int, werkjaar: int | None = None, **args: Any) -> Any:
    """A facility's yearly record (jaaroverzicht) for one werkjaar, per network of the
    token it was a member of then: sessions attended, learning hours, hosted sessions,
    goals covered, action points and shared evaluation quotes. People's names only for
    tokens that may see people."""
    pages = services.records(
        _query(args), facility_id, werkjaar, show_names=g.api_token.may_see_people
    )
    if pages is None:
        abort(404)
    return {"data": [_record(p) for p in pages]}


@bp.route("/deletions")
@bp.arguments(s.DeletionListArgs, location="query", as_kwargs=True)
@bp.response(200, s.DeletionPage)
@_errors(400, 401, 405, 429)
@requires(API_TOKEN)
def deletions(**args: Any) -> Any:
    """What is gone, with ``updated_since`` since a moment: deleted sessions and
    memberships of the token's networks; for tokens that may see people also deleted
    answers and attendance, and contacts erased on request (forget them). Ids only."""
    rows, cursor = services.deletions(_query(args), g.api_token.may_see_people)
    out = [
        {"id": r.entity_id, "type": r.entity, "reason": r.reason, "deleted_at": r.deleted_at}
        for r in rows
    ]
    return {"data": out, "next_cursor": cursor}
