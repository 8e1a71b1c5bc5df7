"""Networks, member facilities, memberships and contacts."""

from flask import Blueprint

bp = Blueprint("networks", __name__)

from learnnet.networks import views  # noqa: E402,F401
