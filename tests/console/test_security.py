"""Security properties, enumerated from the app's own route table: a new page cannot escape."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from console.app import route_table
from console.security import COOKIE, HEADERS
from tests.console.conftest import PASSWORD, csrf_of, sign_in

# Sign-in, and the kubelet's probes: the only routes an anonymous request may open.
PROBES = {"/healthz", "/readyz"}
PUBLIC = {"/login", *PROBES}


def routes(console) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, with path parameters filled in."""
    found = []
    for route in route_table(console.app):
        if not isinstance(route, APIRoute):
            continue
        path = route.path.replace("{complaint_id}", "C-1").replace("{decision}", "triage")
        path = path.replace("{seq}", "1")
        found += [(method, path) for method in sorted(route.methods or ())]
    assert len(found) >= 9, found
    return found


def permission_of(route: APIRoute) -> str | None:
    for dependency in route.dependant.dependencies:
        permission = getattr(dependency.call, "permission", None)
        if permission is not None:
            return str(permission.value)
    return None


@pytest.mark.clause("21 CFR 11.10(d)")
async def test_every_route_but_sign_in_declares_a_permission_and_refuses_anonymous(console):
    for route in route_table(console.app):
        if isinstance(route, APIRoute) and route.path not in PUBLIC:
            assert permission_of(route), f"{route.path} declares no permission"
    async with console.browser() as anonymous:
        for method, path in routes(console):
            if path in PUBLIC:
                continue
            response = await anonymous.request(method, path, data={"csrf_token": "x"})
            if method == "GET":
                assert response.status_code == 303, (method, path)
                assert response.headers["location"] == "/login"
            else:
                assert response.status_code == 401, (method, path)


async def test_exactly_the_two_probes_are_open_to_anyone_and_tell_nothing_more(console):
    anonymous_routes = {
        route.path
        for route in route_table(console.app)
        if isinstance(route, APIRoute) and permission_of(route) is None
    }
    assert anonymous_routes == PUBLIC
    async with console.browser() as anonymous:
        live = await anonymous.get("/healthz")
        ready = await anonymous.get("/readyz")
        assert (live.status_code, live.text) == (200, "ok\n")
        assert (ready.status_code, ready.text) == (200, "ready\n")
        for response in (live, ready):
            assert "set-cookie" not in response.headers  # no session for a probe
            assert response.headers["content-security-policy"]
        assert not anonymous.cookies


async def test_readiness_fails_naming_only_the_dependency_that_does_not_answer(console):
    """Temporal gone: /readyz says so (503) without an address; /healthz stays ok."""
    ctx = console.app.state.ctx
    saved, settings = ctx.client, ctx.settings
    ctx.client = None
    ctx.settings = settings.model_copy(update={"temporal_address": "127.0.0.1:9"})
    try:
        async with console.browser() as anonymous:
            ready = await anonymous.get("/readyz")
            assert ready.status_code == 503
            assert ready.text == "not ready: Temporal did not answer\n"
            assert (await anonymous.get("/healthz")).status_code == 200
    finally:
        ctx.client, ctx.settings = saved, settings


@pytest.mark.clause("21 CFR 11.10(g)")
async def test_an_auditor_cannot_decide_and_an_operator_cannot_manage_users(console):
    """And an administrator manages accounts but cannot decide."""
    complaint_id = await console.start()
    async with console.signed_in("ada.aud") as auditor:
        page = await auditor.get(f"/complaints/{complaint_id}")
        assert page.status_code == 200 and "/decide/" not in page.text
        for route in route_table(console.app):
            if isinstance(route, APIRoute) and permission_of(route) == "decide":
                path = route.path.replace("{complaint_id}", complaint_id)
                path = path.replace("{decision}", "triage")
                for method in route.methods or ():
                    token = await csrf_of(auditor, "/complaints")
                    response = await auditor.request(method, path, data={"csrf_token": token})
                    assert response.status_code == 403, (method, path)
    admin_routes = [
        r
        for r in route_table(console.app)
        if isinstance(r, APIRoute) and permission_of(r) == "manage_users"
    ]
    assert admin_routes, "the console has pages only administrators may open"
    async with console.signed_in("max.admin") as admin:
        for route in admin_routes:
            assert (await admin.get(route.path)).status_code == 200, route.path
        # Separation of duties: whoever creates accounts cannot sign with them.
        decide = await admin.get(f"/complaints/{complaint_id}/decide/triage")
        assert decide.status_code == 403
    async with console.signed_in("ann.op") as operator:
        for route in admin_routes:
            for method in route.methods or ():
                token = await csrf_of(operator, "/complaints")
                response = await operator.request(method, route.path, data={"csrf_token": token})
                assert response.status_code == 403, route.path


@pytest.mark.clause("21 CFR 11.10(h)")
async def test_a_post_without_the_session_csrf_token_is_refused(console):
    async with console.signed_in("ann.op") as browser:
        for method, path in routes(console):
            if method != "POST" or path in PUBLIC:
                continue
            for data in ({}, {"csrf_token": "forged"}):
                response = await browser.post(path, data=data)
                assert response.status_code == 403, (path, data)
                assert "reload the page" in response.text
        # Still signed in: a refused POST (even to /logout) changed nothing.
        assert (await browser.get("/complaints")).status_code == 200
    async with console.browser() as fresh:
        await fresh.get("/login")
        response = await fresh.post(
            "/login", data={"csrf_token": "forged", "username": "ann.op", "password": PASSWORD}
        )
        assert response.status_code == 403


async def test_sign_in_rotates_the_session_cookie_and_sets_safe_flags(console):
    async with console.browser() as browser:
        first = await browser.get("/login")
        before = browser.cookies[COOKIE]
        flags = first.headers["set-cookie"].lower()
        assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
        response = await sign_in(browser, "ann.op", PASSWORD)
        assert response.status_code == 303
        after = browser.cookies[COOKIE]
        assert after != before
        assert console.identity.sessions.get(before) is None
        # The old token, replayed by whoever planted it, is not signed in.
    async with console.browser() as attacker:
        attacker.cookies.set(COOKIE, before)
        assert (await attacker.get("/complaints")).status_code == 303


async def test_security_headers_on_every_page(console):
    async with console.browser() as browser:
        response = await browser.get("/login")
        for name, value in HEADERS.items():
            assert response.headers[name] == value
        csp = response.headers["content-security-policy"]
        assert "script-src" not in csp and "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "<script" not in response.text


async def test_wrong_password_at_sign_in_says_so_without_naming_which_part(console):
    async with console.browser() as browser:
        response = await sign_in(browser, "ann.op", "not the password")
        assert response.status_code == 401
        assert "wrong user name, password or code" in response.text
        missing = await sign_in(browser, "ann.op", "")
        assert missing.status_code == 400 and "password: required" in missing.text
        assert (await browser.get("/complaints")).status_code == 303


HOSTILE = '</td><script>alert(1)</script>"\' onmouseover="alert(2)'


async def test_hostile_complaint_text_renders_inert(console):
    complaint_id = await console.start(summary=HOSTILE, description=HOSTILE)
    async with console.signed_in("lee.qm") as browser:
        for path in (f"/complaints/{complaint_id}", f"/complaints/{complaint_id}/decide/triage"):
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert "<script>" not in page.text and 'onmouseover="' not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=closed' OR '1'='1", "status: not a complaint status"),
        ("severity=high%27--", "severity: one of"),
        ("assignee=x' OR WorkflowType != '", "assignee: a user name"),
        ("page=%%%", "page: not a page of this list"),
        ("page=bm90LWEtdG9rZW4=", "page: not a page of this list"),
    ],
)
async def test_list_filters_with_quotes_and_query_fragments_are_refused_by_name(
    console, query, message
):
    async with console.signed_in("ann.op") as browser:
        response = await browser.get(f"/complaints?{query}")
    assert response.status_code == 400
    assert message in response.text and "Traceback" not in response.text


async def test_audit_filters_with_sql_fragments_match_nothing_unexpected(console):
    async with console.signed_in("ada.aud") as browser:
        response = await browser.get("/audit", params={"actor": "x' OR '1'='1"})
        assert response.status_code == 200 and "No entries match." in response.text
        bad = await browser.get("/audit", params={"since": "yesterday'; DROP TABLE"})
        assert bad.status_code == 400 and "since: a date or time" in bad.text
        assert re.search(r"after: an entry number", (await browser.get("/audit?after=-1")).text)
