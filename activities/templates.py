"""Rendering a message to the complainant from its template, per language, English as fallback.

A template is a small text file in `activities/message_templates/<language>/<purpose>.txt`:
header lines (`Subject:`, `Greeting:`, `Greeting-if-unknown:`; a rejection also `Decision:`
and `Decision-if-duplicate:`), a blank line, then the body.
Placeholders are `string.Template`'s (`$complaint_id`), so a template can show only what the
workflow hands over, never run code. The template id names the file and the first 12 hex of
its SHA-256: the audit log then tells which wording a complainant got.

`string.Template` has no conditionals, so what varies with the case is chosen here, from
header lines, and the template stays one file a translator can read: the greeting (a name
or none) and a rejection's decision (a duplicate or not). A line holding only `$text` is
left out, with the blank line after it, when there is no text: a rejection without a
`customer_response` states the decision alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

from schemas.customer_message import (
    MessagePurpose,
    RenderedMessage,
    RenderRequest,
    content_hash,
)

FALLBACK_LANGUAGE = "en"
TEMPLATES = "message_templates"
HEADERS = ("Subject", "Greeting", "Greeting-if-unknown")
DECISION_HEADERS = ("Decision", "Decision-if-duplicate")
# Which purposes need which headers beyond HEADERS (and may have them).
EXTRA_HEADERS = {MessagePurpose.REJECTION: DECISION_HEADERS}
TEXT_LINE = re.compile(r"^\$(?:text|\{text\})\n\n?", re.MULTILINE)


class TemplateError(ValueError):
    """A template file that cannot be used; names the file and what is wrong."""


@dataclass(frozen=True)
class MessageTemplate:
    template_id: str
    language: str
    subject: Template
    greeting: Template
    greeting_if_unknown: str
    body: Template
    decision: Template | None = None
    decision_if_duplicate: Template | None = None


def languages() -> list[str]:
    """The languages that have at least one template."""
    root = resources.files(__package__).joinpath(TEMPLATES)
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir())


@cache
def load(purpose: MessagePurpose, language: str) -> MessageTemplate:
    """The template for `purpose` in `language`, or in English when there is none."""
    root = resources.files(__package__).joinpath(TEMPLATES)
    chosen = language
    source = root.joinpath(language, f"{purpose.value}.txt")
    if not language.isalpha() or not source.is_file():
        chosen, source = FALLBACK_LANGUAGE, root.joinpath(FALLBACK_LANGUAGE, f"{purpose.value}.txt")
    raw = source.read_bytes()
    name = f"{purpose.value}/{chosen}"
    head, sep, body = raw.decode("utf-8").partition("\n\n")
    if not sep:
        raise TemplateError(f"{name}: needs header lines, a blank line, then the body")
    allowed = HEADERS + EXTRA_HEADERS.get(purpose, ())
    headers: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if not colon or key not in allowed:
            raise TemplateError(f"{name}: unknown header line {line!r}; allowed: {allowed}")
        headers[key] = value.strip()
    missing = [key for key in allowed if not headers.get(key)]
    if missing:
        raise TemplateError(f"{name}: missing header {', '.join(missing)}")
    decision = headers.get("Decision")
    if_duplicate = headers.get("Decision-if-duplicate")
    return MessageTemplate(
        template_id=f"{name}@{hashlib.sha256(raw).hexdigest()[:12]}",
        language=chosen,
        subject=Template(headers["Subject"]),
        greeting=Template(headers["Greeting"]),
        greeting_if_unknown=headers["Greeting-if-unknown"],
        body=Template(body),
        decision=Template(decision) if decision else None,
        decision_if_duplicate=Template(if_duplicate) if if_duplicate else None,
    )


def render(request: RenderRequest) -> RenderedMessage:
    template = load(request.purpose, request.language)
    survey_link = request.survey_code or ""
    if request.survey_url and request.survey_code:
        survey_link = request.survey_url.replace("{code}", request.survey_code)
    values = {
        "complaint_id": request.complaint_id,
        "name": request.customer_name or "",
        "summary": request.summary,
        "text": request.text,
        "survey_link": survey_link,
        "duplicate_of": request.duplicate_of or "",
    }
    greeting = (
        template.greeting.substitute(values)
        if request.customer_name
        else template.greeting_if_unknown
    )
    body_template = template.body
    if not request.text:
        body_template = Template(TEXT_LINE.sub("", template.body.template))
    try:
        decision = _decision(template, request.duplicate_of, values)
        subject = template.subject.substitute(values)
        body = body_template.substitute(values, greeting=greeting, decision=decision)
    except (KeyError, ValueError) as exc:
        raise TemplateError(f"{template.template_id}: unknown placeholder {exc}") from None
    return RenderedMessage(
        template_id=template.template_id,
        language=template.language,
        subject=subject,
        body=body,
        content_hash=content_hash(subject, body),
    )


def _decision(template: MessageTemplate, duplicate_of: str | None, values: dict[str, str]) -> str:
    """A rejection's decision, in the template's words: a duplicate names the earlier one."""
    chosen = template.decision_if_duplicate if duplicate_of else template.decision
    return chosen.substitute(values) if chosen is not None else ""
