"""The planning blueprint, in a module of its own: the views import it and the app factory
imports the views, so no module imports its own importer."""

from flask import Blueprint

bp = Blueprint("planning", __name__)
