"""OpenID Connect sign-in against a real provider over loopback HTTP, flow driven by httpx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from joserfc.jwk import RSAKey

from audit.store import EntryFilter
from closeloop.stack.processes import free_port
from console.app import create_app
from console.context import ConsoleContext
from console.oidc import OidcClient, OidcConfig
from identity.roles import Role
from tests.console.oidc_provider import Provider

SECRET = "s3cret-of-the-client"


async def serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.05)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture
async def oidc(console) -> AsyncIterator[tuple[Provider, str]]:
    provider = Provider(client_id="closeloop", client_secret=SECRET)
    p_server, p_task, provider.issuer = await serve(provider.app())
    config = OidcConfig(provider.issuer, "closeloop", SECRET)
    ctx = ConsoleContext(
        console.settings, console.identity, client=console.client, oidc=OidcClient(config)
    )
    c_server, c_task, base = await serve(create_app(ctx))
    yield provider, base
    for server, task in ((c_server, c_task), (p_server, p_task)):
        server.should_exit = True
        await task


def oidc_entries(console, entry_type: str) -> list[Any]:
    found = console.identity.audit_log.entries(EntryFilter(entry_type=entry_type))
    return [e for e in found if e.data.get("method") == "oidc"]


async def test_a_user_signs_in_through_the_identity_provider(console, oidc):
    _, base = oidc
    async with httpx.AsyncClient(base_url=base, follow_redirects=True) as browser:
        assert 'href="/login/oidc"' in (await browser.get("/login")).text
        before = browser.cookies.get("closeloop_session")
        done = await browser.get("/login/oidc")
        assert done.status_code == 200 and "Signed in" in done.text, done.text
        assert browser.cookies.get("closeloop_session") not in (None, before)  # rotated
        complaints = await browser.get("/complaints")
        assert complaints.url.path == "/complaints"
        assert "Ann Operator (ann.op, operator)" in complaints.text  # the role from identity
    assert oidc_entries(console, "identity.login")[-1].actor == "ann.op"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"signing_key": RSAKey.generate_key(2048, {"kid": "k1"})}, "signature does not verify"),
        ({"audience": "someone-else"}, "aud claim is wrong"),
        ({"username": "nobody.here"}, "nobody.here is not a user of this console"),
    ],
)
async def test_a_bad_sign_in_is_refused_audited_and_explained(console, oidc, change, message):
    provider, base = oidc
    for name, value in change.items():
        setattr(provider, name, value)
    failed_before = len(oidc_entries(console, "identity.login_failed"))
    async with httpx.AsyncClient(base_url=base, follow_redirects=True) as browser:
        response = await browser.get("/login/oidc")
        assert response.status_code == 401 and message in response.text, response.text
        assert (await browser.get("/complaints")).url.path == "/login"
    assert len(oidc_entries(console, "identity.login_failed")) == failed_before + 1


async def test_a_disabled_user_cannot_sign_in_through_the_provider(console, oidc):
    provider, base = oidc
    console.identity.users.add(
        "gone.op", "Gone Op", Role.OPERATOR, "a password long enough", by="t"
    )
    console.identity.users.disable("gone.op", by="t")
    provider.username = "gone.op"
    async with httpx.AsyncClient(base_url=base, follow_redirects=True) as browser:
        response = await browser.get("/login/oidc")
    assert response.status_code == 401 and "gone.op is disabled" in response.text


async def test_a_replayed_state_is_refused(console, oidc):
    _, base = oidc
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as browser:
        to_provider = await browser.get("/login/oidc")
        back = await browser.get(to_provider.headers["location"])
        callback = back.headers["location"]
        assert (await browser.get(callback)).status_code == 200
        replayed = await browser.get(callback)
    assert replayed.status_code == 401 and "already used" in replayed.text


def test_oidc_is_off_by_default_and_a_half_configuration_names_the_missing_variable():
    assert OidcConfig.from_env({}) is None
    with pytest.raises(ValueError, match="CLOSELOOP_OIDC_CLIENT_ID: required"):
        OidcConfig.from_env({"CLOSELOOP_OIDC_ISSUER": "https://idp.example"})
    config = OidcConfig.from_env(
        {"CLOSELOOP_OIDC_ISSUER": "https://idp.example/", "CLOSELOOP_OIDC_CLIENT_ID": "c",
         "CLOSELOOP_OIDC_CLIENT_SECRET": SECRET, "CLOSELOOP_OIDC_USERNAME_CLAIM": "sub"}
    )  # fmt: skip
    assert config is not None and config.issuer == "https://idp.example"
    assert config.username_claim == "sub" and SECRET not in repr(config)
