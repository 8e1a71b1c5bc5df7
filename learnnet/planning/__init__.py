"""Planning a season: the pure planner (rotation, recurrence, school holidays), the date
poll and the conflict check. Its routes register on :data:`learnnet.planning.blueprint.bp`."""
