"""Networks, member facilities, memberships and contacts."""

from learnnet.networks import views  # noqa: F401  (its routes register on bp)
from learnnet.networks.blueprint import bp as bp  # the app factory registers it
