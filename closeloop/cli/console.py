"""`closeloop console`: serve the web console (production entry point).

Behind a TLS-terminating proxy, pass `--proxy-headers` so the console sees https and sets
the Secure flag on its session cookie.
"""

from __future__ import annotations

import click

from base.settings import load_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="CLOSELOOP_CONSOLE_HOST")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8400, show_default=True,
    envvar="CLOSELOOP_CONSOLE_PORT",
)  # fmt: skip
@click.option("--proxy-headers", is_flag=True, help="Trust X-Forwarded-Proto from a proxy.")
def console(host: str, port: int, proxy_headers: bool) -> None:
    """Serve the console: complaints, signed decisions, the audit log."""
    import uvicorn

    from console.app import create_app
    from console.context import ConsoleContext
    from identity.service import Identity

    settings = load_settings()
    app = create_app(ConsoleContext(settings, Identity.from_settings(settings)))
    uvicorn.run(
        app, host=host, port=port, proxy_headers=proxy_headers, server_header=False,
        log_level="warning", access_log=False,
    )  # fmt: skip
