"""A refusal in the event contract's words, for the dead letter an upstream team reads.

The workflow names fields and decisions with markers (`schemas.markers`). Upstream teams
never typed a Temporal Update name: they sent an `event_type` with the fields of
`schemas/complaints.updates.v1.schema.json`. So a decision that an event carries is named
by that event type, a decision only an operator takes is called an operator's decision, and
a field is named as the contract spells it, in the JSON path form dead letters use.
"""

from __future__ import annotations

from schemas.outcomes import Refusal, render

# Which event type carries each decision (the reverse of streams.routing.ROUTES).
EVENT_TYPE_OF_DECISION: dict[str, str] = {
    "add_information": "customer.information_added",
    "investigate": "investigation.completed",
    "record_action_progress": "capa.action_progressed",
    "complete_action": "capa.action_completed",
    "verify": "verification.completed",
    "record_survey": "survey.responded",
    "record_customer_activity": "customer.activity",
}

# Decision input fields whose name on the event differs; all others are spelled alike.
EVENT_FIELD_OF_INPUT_FIELD: dict[str, str] = {
    "update_id": "event_id",  # the stream sends each event as the Update with its event id
}


def event_field(name: str) -> str:
    return "$." + EVENT_FIELD_OF_INPUT_FIELD.get(name, name)


def event_decision(name: str) -> str:
    event_type = EVENT_TYPE_OF_DECISION.get(name)
    if event_type is not None:
        return f"a {event_type} event"
    return f"an operator's decision ({name.replace('_', ' ')})"


def in_event_words(refusal: Refusal) -> str:
    return render(refusal.template, field=event_field, decision=event_decision)


def text_in_event_words(template: str) -> str:
    """The same for a bare template (a validation message of a decision input)."""
    return render(template, field=event_field, decision=event_decision)
