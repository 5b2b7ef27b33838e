"""Start `closeloop complaint …` in the time the Temporal client needs, not pydantic's.

Loading `schemas/` builds the validators of some sixty pydantic models, which took longer
than the Temporal call itself; a command uses a handful of them (`list` none at all). With
pydantic's `defer_build` a model builds its validator on first use instead, so each command
pays only for what it validates. It is switched on for the `closeloop` process only, never
for the worker (whose workflow sandbox should not build validators lazily) or for code that
imports the CLI in-process, such as tests.

Creating the first model also makes pydantic scan the metadata of every installed package
for plugins (`importlib.metadata.entry_points`), which costs more than the models; Closeloop
uses no pydantic plugin, so a `closeloop` process skips the scan
(`PYDANTIC_DISABLE_PLUGINS=__all__`, unless the environment says otherwise).
"""

from __future__ import annotations

import os

from pydantic import BaseModel

from closeloop.cli.process_exit import is_cli_process


def defer_model_building() -> None:
    """Models defined after this call build their validators on first use."""
    if is_cli_process():
        BaseModel.model_config["defer_build"] = True
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
