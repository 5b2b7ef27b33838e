"""The shared base every layer may use: settings, the Temporal connection, retries.

It sits just above `schemas/` and below everything else, so nothing here imports
`audit`, `activities`, `workflows`, `streams` or the `closeloop` shell.
"""
