"""`closeloop console` serves the app over HTTP; a disabled user's session ends at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from closeloop.stack.processes import free_port
from console.security import COOKIE
from identity.roles import Role
from tests.console.conftest import PASSWORD, sign_in


def test_closeloop_console_serves_the_sign_in_page_with_security_headers(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(tmp_path),
        "CLOSELOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'audit.db'}",
        "CLOSELOOP_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nothing listens there
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "closeloop", "console", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and "Sign in" in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert "server" not in response.headers
        assert "secure" not in response.headers["set-cookie"].lower()  # plain http here
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_over_https_the_session_cookie_is_secure(console):
    transport = httpx.ASGITransport(app=console.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as browser:
        response = await browser.get("/login")
        assert "; secure" in response.headers["set-cookie"].lower()
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_disabling_a_user_ends_their_open_session(console):
    console.identity.users.add(
        "tmp.op", "Temp Operator", Role.OPERATOR, PASSWORD,
        by="os:test",
    )  # fmt: skip
    async with console.browser() as browser:
        assert (await sign_in(browser, "tmp.op", PASSWORD)).status_code == 303
        assert browser.cookies[COOKIE]
        assert (await browser.get("/complaints")).status_code == 200
        console.identity.users.disable("tmp.op", by="os:test")
        assert (await browser.get("/complaints")).status_code == 303


async def test_five_failed_sign_ins_lock_the_account_in_the_console(console):
    from identity.roles import Role

    console.identity.users.add("lock.op", "Lock Operator", Role.OPERATOR, PASSWORD, by="os:test")
    async with console.browser() as browser:
        for _ in range(5):
            assert (await sign_in(browser, "lock.op", "wrong password!")).status_code == 401
        locked = await sign_in(browser, "lock.op", PASSWORD)
        assert locked.status_code == 401 and "too many failed attempts" in locked.text
