"""Every clause the compliance matrix answers for, with what Closeloop does about it and,
where Closeloop does not (or only partly) meet it, what the user must do instead.

Tests name the clauses they prove with `@pytest.mark.clause("ISO 9001:2015 10.2.1", ...)`
(ids exactly as `Clause.id` here); `audit.compliance.generate` joins the two into
`docs/compliance.md` and `matrix.json`, and `tests/audit/test_compliance_matrix.py` fails when
a clause has neither a test nor a note, a marker names a clause not listed here, or the
generated files are stale. Titles are short descriptions, not the standards' text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    feature: str  # what Closeloop does for it ("" when nothing)
    not_covered: str | None = None  # what Closeloop leaves to the user, and what to do


def _iso9001(number: str, title: str, feature: str, not_covered: str | None = None) -> Clause:
    return Clause(f"ISO 9001:2015 {number}", title, feature, not_covered)


def _iso10002(number: str, title: str, feature: str, not_covered: str | None = None) -> Clause:
    return Clause(f"ISO 10002:2018 {number}", title, feature, not_covered)


def _iso13485(number: str, title: str, feature: str, not_covered: str | None = None) -> Clause:
    return Clause(f"ISO 13485:2016 {number}", title, feature, not_covered)


def _part11(number: str, title: str, feature: str, not_covered: str | None = None) -> Clause:
    return Clause(f"21 CFR 11.{number}", title, feature, not_covered)


YOUR_PROCEDURE = "Closeloop records and enforces the steps; the documented procedure is yours."

CLAUSES: tuple[Clause, ...] = (
    _iso9001(
        "5.1.2",
        "Customer focus",
        "Every complaint becomes one durable case with deadlines it cannot drop; customer "
        "satisfaction and complaint KPIs from the audit log.",
    ),
    _iso9001(
        "8.2.1",
        "Customer communication, including complaints",
        "Complaints arrive from upstream systems on Kafka; acknowledgment on receipt; the "
        "response to the customer is part of closure.",
    ),
    _iso9001(
        "9.1.2",
        "Customer satisfaction",
        "Survey responses (CSAT, NPS) recorded on the case; satisfaction KPIs with exact "
        "definitions.",
    ),
    _iso9001(
        "9.3.2",
        "Management review inputs",
        "The management-review report: complaint, satisfaction and timeliness figures pinned to "
        "a signed audit-log state.",
        "Closeloop supplies the complaint and customer-satisfaction inputs only; hold the "
        "review, its other inputs and its minutes in your QMS.",
    ),
    _iso9001(
        "10.2.1",
        "Nonconformity and corrective action",
        "Investigation with root cause (or a documented decision not to investigate), CAPA "
        "actions as child workflows, verification of effectiveness by someone who owns no "
        "action, reopening when not effective.",
    ),
    _iso9001(
        "10.2.2",
        "Documented information on nonconformities and actions",
        "Every decision, with actor, time, reason and data, in the append-only, hash-chained "
        "audit log; the complaint's timeline.",
    ),
    _iso9001(
        "10.3",
        "Continual improvement",
        "Trend signals from a versioned monitoring plan open improvements (Plan-Do-Check-Act "
        "workflows with CAPA actions, a check of the same figure before and after, and a "
        "decision to standardise or go round again).",
    ),
    _iso10002(
        "7.1",
        "Communication (information about the process)",
        "",
        "Publish how, where and in what time frames to complain (web site, leaflets); "
        "Closeloop's messages to the complainant are under 7.4 and 7.8.",
    ),
    _iso10002(
        "7.2",
        "Receipt of complaint",
        "complaints.received.v1: validated, recorded once per complaint id (dead letters keep "
        "what was refused), audited on receipt.",
    ),
    _iso10002(
        "7.3",
        "Tracking of complaint",
        "Status, history and what is due next for every case (complaint show, the console, the "
        "Temporal UI's search attributes, complaints.status.v1).",
    ),
    _iso10002(
        "7.4",
        "Acknowledgement of complaint",
        "Automatic acknowledgment on receipt (or a person's, within the acknowledge deadline, "
        "escalated when missed), sent to the complainant from a template in their language; "
        "an undelivered acknowledgment escalates.",
    ),
    _iso10002(
        "7.5",
        "Initial assessment of complaint",
        "Triage: severity, category, risk rationale, assignee, reportability, with its own "
        "deadline.",
    ),
    _iso10002(
        "7.6",
        "Investigation of complaints",
        "Root-cause analysis by method, with evidence; preliminary findings; investigation "
        "deadline by severity.",
    ),
    _iso10002(
        "7.7",
        "Response to complaints",
        "Closure requires the response to the customer, which is sent to them; CAPA "
        "corrections for the instance; questions to the complainant (`complaint ask`).",
    ),
    _iso10002(
        "7.8",
        "Communicating the decision",
        "The decision and response are sent to the complainant at closure, and the decision "
        "when a complaint is rejected (a duplicate names the earlier complaint) "
        "(complaints.customer-messages.v1 for your CRM, or the built-in SMTP sender), audited "
        "with the message hash; delivery confirmations and failures come back and are audited.",
    ),
    _iso10002(
        "7.9",
        "Closing the complaint",
        "Closure only when the rules allow it (verified effective, reports filed); reopening "
        "on recurrence; closed cases stay open to surveys for 90 days.",
    ),
    _iso10002(
        "8.1",
        "Collection of information",
        "Every step of every complaint is in the audit log, queryable and exportable.",
    ),
    _iso10002(
        "8.2",
        "Analysis and evaluation of complaints",
        "KPIs by product, category and month; every figure explains the entries it counts.",
    ),
    _iso10002(
        "8.3",
        "Satisfaction with the complaints-handling process",
        "Survey responses after closure; CSAT and NPS KPIs.",
    ),
    _iso10002(
        "8.4",
        "Monitoring of the complaints-handling process",
        "Deadlines escalate when missed (overdue search attribute, status events); KPIs pinned "
        "to signed checkpoints.",
    ),
    _iso10002(
        "8.5",
        "Auditing of the complaints-handling process",
        "Export bundles with a standalone verifier; tamper-evident log auditors verify themselves.",
        "Closeloop provides the evidence; planning and conducting the audits is yours.",
    ),
    _iso10002(
        "8.6",
        "Management review of the complaints-handling process",
        "The management-review report.",
        "Hold the review and record its decisions in your QMS.",
    ),
    _iso10002(
        "8.7",
        "Continual improvement",
        "Improvements (PDCA workflows) check the same KPI figure after their actions against "
        "the level before and are standardised only when it improved.",
    ),
    _iso13485(
        "8.2.2",
        "Complaint handling",
        "Receipt, evaluation, investigation or a documented decision not to, the need to "
        "report, correction and corrective action, all recorded. " + YOUR_PROCEDURE,
    ),
    _iso13485(
        "8.2.3",
        "Reporting to regulatory authorities",
        "Per-market report clocks from a versioned rules table (FDA MDR, EU MDR); no closure "
        "while a report is missing; submissions recorded with their reference.",
    ),
    _iso13485(
        "8.4",
        "Analysis of data",
        "KPIs from the audit log with exact definitions, each explainable entry by entry; "
        "trend analysis with statistical methods named in a versioned monitoring plan.",
    ),
    _iso13485(
        "8.5.2",
        "Corrective action",
        "CAPA actions with owners and due dates, overdue escalation, verification of "
        "effectiveness.",
    ),
    _iso13485(
        "8.5.3",
        "Preventive action",
        "CAPA actions of kind preventive, handled like corrective ones.",
    ),
    Clause(
        "21 CFR 820.35",
        "Control of records: complaint records (QMSR, since 2026-02-02)",
        "complaints.received.v1 carries UDI, control numbers and the complainant's contact; "
        "complaint show and the export lay out 820.35(a) item by item.",
    ),
    Clause(
        "21 CFR 803",
        "Medical device reporting",
        "30-calendar-day MDR clock, or 5 work days when remedial action is needed, from "
        "awareness; escalated when missed; each report recorded with its reference.",
        "Filing the report itself (eMDR) is yours; Closeloop records that it was filed.",
    ),
    Clause(
        "EU MDR Art. 87",
        "Reporting of serious incidents and field safety corrective actions",
        "2, 10 or 15 days from awareness by event class; escalated when missed.",
        "Filing with the competent authority (EUDAMED) is yours; field safety corrective "
        "actions are not tracked apart from CAPA.",
    ),
    Clause(
        "EU MDR Art. 88",
        "Trend reporting",
        "Statistically significant increases are detected by the methods of a monitoring plan "
        "defined in advance (c/u-charts with run rules, exact Poisson test, EWMA, CUSUM); every "
        "plan change, run and signal is audited and published on quality.signals.v1.",
        "Filing the trend report with the competent authority (EUDAMED) is yours.",
    ),
    _part11(
        "10(a)",
        "Validation of systems",
        "The test suite and this matrix are evidence for validation.",
        "Validate Closeloop for your intended use (installation, operational, performance "
        "qualification) under your validation procedure.",
    ),
    _part11(
        "10(b)",
        "Accurate and complete copies for inspection",
        "Export bundles (JSON lines, CSV, proofs, verifier) and audit log output as JSON, CSV "
        "and tables.",
    ),
    _part11(
        "10(c)",
        "Protection of records",
        "The database refuses UPDATE, DELETE and TRUNCATE of the audit log; least-privilege roles.",
        "Set the retention period and back up the database.",
    ),
    _part11(
        "10(d)",
        "Limiting system access to authorized individuals",
        "Sign-in for every console route and every signed CLI decision.",
    ),
    _part11(
        "10(e)",
        "Secure, computer-generated, time-stamped audit trails",
        "Append-only hash chain with signed Merkle checkpoints; each decision recorded exactly "
        "once with actor and UTC time; any change detected and pinpointed.",
    ),
    _part11(
        "10(f)",
        "Operational system checks (permitted sequencing)",
        "The lifecycle refuses decisions out of order before anything is written.",
    ),
    _part11(
        "10(g)",
        "Authority checks",
        "Roles: auditors cannot decide, operators cannot manage users.",
    ),
    _part11(
        "10(h)",
        "Device checks (valid sources of input)",
        "Upstream events are validated against their contracts, keyed by complaint id; console "
        "forms need the session's CSRF token.",
    ),
    _part11(
        "10(i)",
        "Training of people who develop, maintain or use the system",
        "",
        "Closeloop keeps no training records: keep evidence of each user's education, training "
        "and experience in your training system before giving them a role.",
    ),
    _part11(
        "10(j)",
        "Written policies on accountability for electronic signatures",
        "",
        "Issue and train a written policy that holds people accountable for actions under "
        "their electronic signatures.",
    ),
    _part11(
        "10(k)",
        "Controls over systems documentation",
        "The documentation is versioned with the code.",
        "Control distribution of, access to and changes to the documentation you operate by.",
    ),
    _part11(
        "50",
        "Signature manifestations",
        "Each signed decision shows the signer's name, the time and the meaning (reviewed, "
        "approved, verified, closed, recorded).",
    ),
    _part11(
        "70",
        "Signature/record linking",
        "A signature covers the SHA-256 of the state signed; a signature over a changed state "
        "is refused.",
    ),
    _part11(
        "100",
        "General requirements for electronic signatures",
        "Each signature belongs to one user account; the signer is the signed-in user, never a "
        "form field.",
        "Verify each person's identity before giving them an account, and send FDA the "
        "certification that your electronic signatures are binding (11.100(c)).",
    ),
    _part11(
        "200",
        "Electronic signature components and controls",
        "Signing needs the user's password (and TOTP code when enabled) at each signature.",
    ),
    _part11(
        "300",
        "Controls for identification codes and passwords",
        "Argon2id password hashes, lockout after repeated failures, expiring and revocable "
        "tokens, sessions that rotate and store only a digest.",
        "Set password ageing and handle lost credentials under your own procedure.",
    ),
)

BY_ID: dict[str, Clause] = {clause.id: clause for clause in CLAUSES}
