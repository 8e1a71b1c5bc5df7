"""Sessions: planning a season with rotating hosts, and managing sessions afterwards."""

from flask import Blueprint

bp = Blueprint("scheduling", __name__)

from learnnet.scheduling import poll_views, recovery_views, views  # noqa: E402,F401
