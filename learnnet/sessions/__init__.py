"""Sessions after planning: the timeline, editing, moving, swapping, cancelling and restoring.
Its routes register on :data:`learnnet.sessions.blueprint.bp`."""
