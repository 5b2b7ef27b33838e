"""Rendering a message to the complainant from its template, per language, English as fallback.

A template is a small text file in `activities/message_templates/<language>/<purpose>.txt`:
header lines (`Subject:`, `Greeting:`, `Greeting-if-unknown:`), a blank line, then the body.
Placeholders are `string.Template`'s (`$complaint_id`), so a template can show only what the
workflow hands over, never run code. The template id names the file and the first 12 hex of
its SHA-256: the audit log then tells which wording a complainant got.
"""

from __future__ import annotations

import hashlib
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
    headers: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if not colon or key not in HEADERS:
            raise TemplateError(f"{name}: unknown header line {line!r}; allowed: {HEADERS}")
        headers[key] = value.strip()
    missing = [key for key in HEADERS if not headers.get(key)]
    if missing:
        raise TemplateError(f"{name}: missing header {', '.join(missing)}")
    return MessageTemplate(
        template_id=f"{name}@{hashlib.sha256(raw).hexdigest()[:12]}",
        language=chosen,
        subject=Template(headers["Subject"]),
        greeting=Template(headers["Greeting"]),
        greeting_if_unknown=headers["Greeting-if-unknown"],
        body=Template(body),
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
    }
    greeting = (
        template.greeting.substitute(values)
        if request.customer_name
        else template.greeting_if_unknown
    )
    try:
        subject = template.subject.substitute(values)
        body = template.body.substitute(values, greeting=greeting)
    except (KeyError, ValueError) as exc:
        raise TemplateError(f"{template.template_id}: unknown placeholder {exc}") from None
    return RenderedMessage(
        template_id=template.template_id,
        language=template.language,
        subject=subject,
        body=body,
        content_hash=content_hash(subject, body),
    )
