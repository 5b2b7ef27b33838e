"""Custom search attributes: what operators filter on in the Temporal UI and the CLI.

Registered on the namespace by the launcher and the worker (`base.temporal`), set by
`ComplaintWorkflow` with `workflow.upsert_search_attributes`.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("CloseloopStatus")
SEVERITY = SearchAttributeKey.for_keyword("CloseloopSeverity")
CATEGORY = SearchAttributeKey.for_keyword("CloseloopCategory")
PRODUCT = SearchAttributeKey.for_keyword("CloseloopProduct")
CUSTOMER = SearchAttributeKey.for_keyword("CloseloopCustomer")
ASSIGNEE = SearchAttributeKey.for_keyword("CloseloopAssignee")
OVERDUE = SearchAttributeKey.for_bool("CloseloopOverdue")
REPORTABLE = SearchAttributeKey.for_bool("CloseloopReportable")
NEXT_DUE = SearchAttributeKey.for_datetime("CloseloopNextDue")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    STATUS,
    SEVERITY,
    CATEGORY,
    PRODUCT,
    CUSTOMER,
    ASSIGNEE,
    OVERDUE,
    REPORTABLE,
    NEXT_DUE,
)
