"""The whole trail, for admins."""

from __future__ import annotations

from flask import render_template, request

from learnnet.access import ADMIN, requires
from learnnet.audit import bp, services


@bp.route("/admin/audit")
@requires(ADMIN)
def trail() -> str:
    """Every recorded change, newest first (at most 200), optionally of one kind."""
    entity = request.args.get("entity") or None
    if entity not in (None, "facility", "contact", "membership", "network", "session", "account"):
        entity = None
    return render_template("audit/trail.html", events=services.recent(entity), entity=entity)
