"""The ``privacy`` blueprint in a module of its own: the views register their routes on it
without reading anything from the package's ``__init__``, which imports them."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
