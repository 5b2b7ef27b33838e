"""Reading complaints from Temporal: the visibility list (search attributes) and one state.

The list filters are the ones of `closeloop complaint list`. Values are checked against
their vocabularies before they reach the query, and quoted anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from schemas import search_attributes
from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.decisions import COMPLAINT_WORKFLOW, STATE_QUERY, Severity

PAGE_SIZE = 50
_ASSIGNEE = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
COMPLAINT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BadFilter(ValueError):
    """A filter value outside its vocabulary; the message names the filter."""


class ComplaintMissing(LookupError):
    pass


@dataclass(frozen=True)
class Filters:
    status: str = ""
    severity: str = ""
    assignee: str = ""
    overdue: bool = False
    reportable: bool = False
    include_finished: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> Filters:
        status = params.get("status", "").strip()
        severity = params.get("severity", "").strip()
        assignee = params.get("assignee", "").strip()
        if status and status not in {s.value for s in ComplaintStatus}:
            raise BadFilter("status: not a complaint status")
        if severity and severity not in {s.value for s in Severity}:
            raise BadFilter("severity: one of " + ", ".join(s.value for s in Severity))
        if assignee and not _ASSIGNEE.match(assignee):
            raise BadFilter("assignee: a user name (letters, digits, . _ @ -)")
        return cls(
            status=status,
            severity=severity,
            assignee=assignee,
            overdue=params.get("overdue") == "1",
            reportable=params.get("reportable") == "1",
            include_finished=params.get("all") == "1",
        )

    def query(self) -> str:
        clauses = [f"WorkflowType = '{COMPLAINT_WORKFLOW}'"]
        if not self.include_finished:
            clauses.append("ExecutionStatus = 'Running'")
        for key, value in (
            (search_attributes.STATUS, self.status),
            (search_attributes.SEVERITY, self.severity),
            (search_attributes.ASSIGNEE, self.assignee),
        ):
            if value:
                clauses.append(f"{key.name} = '{_quoted(value)}'")
        if self.overdue:
            clauses.append(f"{search_attributes.OVERDUE.name} = true")
        if self.reportable:
            clauses.append(f"{search_attributes.REPORTABLE.name} = true")
        return " AND ".join(clauses)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def encode_page(token: bytes, key: bytes) -> str:
    """A page token for a URL, MACed: Temporal is never handed a token we did not issue."""
    mac = hmac.new(key, token, hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(token).decode("ascii") + "." + mac


def decode_page(text: str, key: bytes) -> bytes | None:
    if not text:
        return None
    encoded, _, mac = text.partition(".")
    try:
        token = base64.b64decode(encoded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        token = b""
    expected = hmac.new(key, token, hashlib.sha256).hexdigest()[:32]
    if not token or not hmac.compare_digest(mac, expected):
        raise BadFilter("page: not a page of this list; start again from the first")
    return token


async def list_page(
    client: Client, filters: Filters, page: bytes | None, key: bytes, size: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], str]:
    """One page of rows and the token of the next page ('' on the last)."""
    iterator = client.list_workflows(filters.query(), page_size=size, next_page_token=page)
    try:
        await iterator.fetch_next_page()
    except RPCError as error:
        if error.status is RPCStatusCode.INVALID_ARGUMENT:
            raise BadFilter("page: not a page of this list; start again from the first") from None
        raise
    rows = []
    for execution in iterator.current_page or ():
        attributes = execution.typed_search_attributes
        due: datetime | None = attributes.get(search_attributes.NEXT_DUE)
        rows.append(
            {
                "id": execution.id,
                "status": attributes.get(search_attributes.STATUS) or "",
                "severity": attributes.get(search_attributes.SEVERITY) or "",
                "assignee": attributes.get(search_attributes.ASSIGNEE) or "",
                "product": attributes.get(search_attributes.PRODUCT) or "",
                "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                "next_due": due,
                "started": execution.start_time,
            }
        )
    token = iterator.next_page_token
    return rows, encode_page(token, key) if token else ""


async def current_state(client: Client, complaint_id: str) -> ComplaintState:
    if not COMPLAINT_ID.match(complaint_id):
        raise ComplaintMissing(complaint_id)
    handle = client.get_workflow_handle(complaint_id)
    try:
        return await handle.query(STATE_QUERY, result_type=ComplaintState)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise ComplaintMissing(complaint_id) from None
        raise
