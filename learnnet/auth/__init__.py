"""Login, accounts and access rules."""

from learnnet.auth import views  # noqa: F401  (its routes register on bp)
from learnnet.auth.blueprint import bp as bp  # the app factory registers it
