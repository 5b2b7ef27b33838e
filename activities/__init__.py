"""Temporal activities: every side effect a complaint workflow needs."""
