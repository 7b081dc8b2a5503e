"""Runnable examples of the mockjobs pytest plugin (collected with the rest of the suite)."""
