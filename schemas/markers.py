"""Markers for field and decision names inside messages meant for people.

A refusal or validation message names a field or a decision with a marker,
`{field:override_wait_reason}` or `{decision:record_regulatory_report}`, never with the bare
internal name, so that each surface can put its own user's word there (the CLI's option and
command, the event contract's field and `event_type`). `schemas.outcomes.render` substitutes
them. This module imports nothing, so every data contract can use it.
"""

from __future__ import annotations


def field_ref(name: str) -> str:
    """A field marker (`field_ref("reason")` -> `{field:reason}`); dots name nested fields."""
    return "{field:" + name + "}"


def decision_ref(name: str) -> str:
    """A decision marker (`decision_ref("close")` -> `{decision:close}`)."""
    return "{decision:" + name + "}"
