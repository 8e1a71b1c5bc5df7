"""Routes of the learning room (filled in by the next commits)."""
