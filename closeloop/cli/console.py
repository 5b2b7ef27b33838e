"""`closeloop console`: serve the web console (production entry point).

Behind a TLS-terminating proxy, pass `--proxy-headers` so the console sees https and sets
the Secure flag on its session cookie.

With `--metrics-port` (or CLOSELOOP_CONSOLE_METRICS_PORT), /healthz, /readyz and /metrics
are also served on that port, apart from the HTTP port: people reach the HTTP port, only
Prometheus and the kubelet the metrics port (console/app.py says why).
"""

from __future__ import annotations

import click

from base.settings import load_settings
from closeloop.stack.processes import port_free

# The health server listens on all interfaces (base/health.py); so does the check.
METRICS_HOST = "0.0.0.0"  # noqa: S104


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="CLOSELOOP_CONSOLE_HOST")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8400, show_default=True,
    envvar="CLOSELOOP_CONSOLE_PORT",
)  # fmt: skip
@click.option("--proxy-headers", is_flag=True, help="Trust X-Forwarded-Proto from a proxy.")
@click.option(
    "--metrics-port", type=click.IntRange(1, 65535), default=None,
    help="Serve /healthz, /readyz and /metrics on this port, on all interfaces "
    "[env: CLOSELOOP_CONSOLE_METRICS_PORT; default: none].",
)  # fmt: skip
def console(host: str, port: int, proxy_headers: bool, metrics_port: int | None) -> None:
    """Serve the console: complaints, signed decisions, the audit log."""
    import uvicorn

    from base.health import metrics_runtime
    from console.app import create_app
    from console.context import ConsoleContext
    from identity.service import Identity

    settings = load_settings()
    # One reader of the variable, the settings, as for the worker's port; the flag wins.
    metrics_port = metrics_port or settings.console_metrics_port
    if metrics_port is not None and not port_free(metrics_port, METRICS_HOST):
        # Said before uvicorn starts: from the app's startup it would come as a traceback.
        raise click.ClickException(
            f"CLOSELOOP_CONSOLE_METRICS_PORT / --metrics-port {metrics_port}: the port is "
            "taken; choose a free one for /healthz, /readyz and /metrics"
        )
    runtime, sdk_metrics_url = metrics_runtime() if metrics_port else (None, "")
    ctx = ConsoleContext(settings, Identity.from_settings(settings), runtime=runtime)
    app = create_app(ctx, metrics_port=metrics_port, sdk_metrics_url=sdk_metrics_url)
    uvicorn.run(
        app, host=host, port=port, proxy_headers=proxy_headers, server_header=False,
        log_level="warning", access_log=False,
    )  # fmt: skip
