"""Closeloop: the shell around the complaint-handling engine (CLI, settings, wiring)."""
