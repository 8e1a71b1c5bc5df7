"""Across the network (issue 23.7): the werkjaar view for the network's facilitators, the
bridges that weaken on the dashboard, and the call list (belronde) behind them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from learnnet import sections
from learnnet.access import NETWORK, requires
from learnnet.attendance.services import csv_bytes
from learnnet.changes import network_scope
from learnnet.learning import weak_bridges as weak_rules
from learnnet.learning import werkjaar as rules
from learnnet.learning import werkjaar_services as services
from learnnet.networks.models import Network
from learnnet.timefmt import local_today

bp = Blueprint("werkjaar", __name__)

# The dashboard names this many facilities per network; the rest is one tap away.
DASHBOARD_SHOWN = 2  # per network; the call list holds them all


def reason_labels() -> dict[str, str]:
    """What each reason says, short enough for a phone line."""
    return {
        weak_rules.MISSED_LAST_TWO: _("missed the last two sessions"),
        weak_rules.NOT_COME: _("has not come this werkjaar"),
        weak_rules.NOT_HOSTED: _("has not hosted this werkjaar"),
    }


def mail_subject(network: Network, line: services.WeakLine) -> str:
    """The subject of the one mail that helps: missed us, or would you host?"""
    if line.bridge.reasons == (weak_rules.NOT_HOSTED,):
        return _("%(network)s: would you like to host a session?", network=network.name)
    return _("%(network)s: we missed you", network=network.name)


@bp.route("/networks/<slug>/werkjaar/overview")
@requires(NETWORK)
def overview(network: Network) -> str:
    """The werkjaar at a glance: theme, goals and the sessions that served them,
    attendance per session, agreements done and the bridges of that year."""
    from learnnet.attendance import svg
    from learnnet.attendance.views import bridges_labels

    current = services.current_year(network)
    year = rules.parse_year(request.args.get("jaar"), current)
    data = services.network_year(network, year)
    picture = (
        svg.bridges_svg(
            data.members,
            data.bridges.edges,
            title=_("Who visited whom in werkjaar %(years)s", years=rules.label(year)),
            labels=bridges_labels(),
        )
        if data.members
        else ""
    )
    return render_template(
        "learning/werkjaar_overview.html",
        network=network,
        data=data,
        year=year,
        current=current,
        year_label=rules.label,
        picture=picture,
        numbers={line.goal.id: n for n, line in enumerate(data.summary.goals, start=1)},
    )


def _call_list(network: Network) -> list[services.WeakLine]:
    return services.weak_bridges([network]).get(network.id, [])


@bp.route("/networks/<slug>/call-list")
@requires(NETWORK)
def call_list(network: Network) -> str:
    """The belronde: the facilities to reach out to, why, and their contacts' numbers."""
    lines = _call_list(network)
    return render_template(
        "learning/werkjaar_call_list.html",
        network=network,
        lines=lines,
        reasons=reason_labels(),
        subjects={line.bridge.facility_id: mail_subject(network, line) for line in lines},
        today=local_today(network.timezone),
    )


@bp.route("/networks/<slug>/call-list.csv")
@requires(NETWORK)
def call_list_csv(network: Network) -> Response:
    """The belronde as CSV: one row per person to call (or the facility itself)."""
    labels = reason_labels()
    header = [_("Facility"), _("Why"), _("Name"), _("Function"), _("Phone"), _("Email address")]
    body: list[list[object]] = []
    for line in _call_list(network):
        why = "; ".join(labels[r] for r in line.bridge.reasons)
        people = line.contacts or [services.Reachable("", "", line.facility_phone, "")]
        for c in people:
            body.append([line.bridge.name, why, c.name, c.function, c.phone, c.email])
    variant = "comma" if request.args.get("variant") == "comma" else "excel"
    response = Response(csv_bytes(header, body, variant), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="belronde-{network.slug}.csv"'
    return response


def dashboard_weak_bridges(networks: list[Network]) -> dict[str, Any]:
    """Template helper (dashboard): per network the facilities to reach out to (the
    first few, with their mail link), in two statements for all networks."""
    found = services.weak_bridges(networks, detailed=DASHBOARD_SHOWN)
    groups = []
    for network in networks:
        lines = found.get(network.id, [])
        if lines:
            groups.append(
                {
                    "network": network,
                    "count": len(lines),
                    "shown": [
                        (line, line.mailto(mail_subject(network, line)))
                        for line in lines[:DASHBOARD_SHOWN]
                    ],
                }
            )
    return {"groups": groups, "reasons": reason_labels()}


def dashboard_weak_bridges_html(networks: list[Network]) -> Markup:
    """Template helper (dashboard): the section "Bridges that weaken", rendered. It reads
    memberships, contacts and attendance, never an answer, so it is kept under the
    networks' settled versions (:mod:`learnnet.sections`) and their dates of today."""
    return sections.kept(
        "dashboard-weak-bridges",
        [network_scope(n.id) for n in networks],
        lambda: sections.render(
            "learning/_weak_bridges.html", weak=dashboard_weak_bridges(networks)
        ),
        key=(tuple(n.id for n in networks), tuple(local_today(n.timezone) for n in networks)),
    )


def init_app(app: Flask) -> None:
    """Register the blueprint and the dashboard's template helper."""
    app.register_blueprint(bp)

    @app.context_processor
    def _werkjaar_helpers() -> dict[str, Any]:
        return {"dashboard_weak_bridges_html": dashboard_weak_bridges_html}
