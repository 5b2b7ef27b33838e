"""The console's reject form carries the optional text for the complainant (ISO 10002 7.8)."""

from __future__ import annotations

import pytest

from console.forms import FORMS, build_input
from schemas.decisions import Actor, Decision, RejectInput

ACTOR = Actor(id="qe.smith", name="Sam Smith")
VALUES = {"reason": "duplicate", "explanation": "Same kettle, twice", "duplicate_of": "C-1"}


@pytest.mark.clause("ISO 10002:2018 7.8")
@pytest.mark.parametrize(
    ("told", "expected"), [("  Handled under C-1.  ", "Handled under C-1."), ("", None)]
)
def test_the_reject_form_sends_the_customer_response_or_leaves_it_out(told, expected):
    built = build_input(
        FORMS[Decision.REJECT],
        {**VALUES, "customer_response": told},
        actor=ACTOR,
        expected_state_hash="0" * 64,
        comment="",
    )
    assert isinstance(built, RejectInput)
    assert built.customer_response == expected
    assert built.duplicate_of == "C-1"
