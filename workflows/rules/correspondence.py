"""Asking the complainant for information (ISO 10002 7.4): recorded here, sent as a message by
`workflows/correspondence.py` once the state holds the question."""

from __future__ import annotations

from schemas.complaint_state import ComplaintState, InformationRequest, Signed
from schemas.decisions import RequestInformationInput
from workflows.rules import Logic


def _request(state: ComplaintState, request: RequestInformationInput, signed: Signed) -> str:
    state.information_requests.append(
        InformationRequest(**signed.model_dump(), question=request.question)
    )
    return f"Information requested from the complainant: {request.question}"


REQUEST_INFORMATION: Logic[RequestInformationInput] = Logic(apply=_request)
