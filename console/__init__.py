"""The web console (layer 1): complaint list and pages, decision forms with Part 11
electronic signatures, and the audit log browser. Server-rendered, no JavaScript at all,
so the Content-Security-Policy can forbid every script.
"""
