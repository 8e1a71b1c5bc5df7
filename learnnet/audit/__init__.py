"""The audit trail: who changed what, when, from what to what.

The bottom room every other room writes to, without calling it: a flush listener
records every insert, update and delete of the tracked tables, with the acting account
(or contact, through a personal link) that the web layer names for the request.
"""

from learnnet.audit import views  # noqa: F401  (its routes register on bp)
from learnnet.audit.blueprint import bp as bp  # the app factory registers it
