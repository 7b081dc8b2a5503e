"""pytest plugin: a live mock Mission Server in one fixture (see README)."""
