"""The workflow sandbox of `closeloop worker`: our own deterministic modules pass through.

Temporal's Python sandbox imports a workflow's module afresh for every run, and with it
every module it imports that is not passed through. For a complaint that meant executing
some thirty modules of `workflows/` again per run: in the soak bench the sandbox's importer
was 43 % of a worker's busy CPU (py-spy), and on a loaded machine first workflow tasks took
over 5 s. Temporal's guidance is to pass through models and other modules whose calls are
deterministic; the helpers of `workflows/` and `trends/` are pure functions and constant
tables, with no state of their own between runs.

The modules that define workflows stay sandboxed, so their code (the business process
itself) keeps the sandbox's guard against non-deterministic calls. The in-process test
workers use the SDK's default, fully sandboxed runner, so the tests still catch such calls
in the helpers too; the end-to-end tests run this runner in real worker processes.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Iterable
from types import ModuleType

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import trends
import workflows


def helper_modules(packages: Iterable[ModuleType], workflow_classes: Iterable[type]) -> list[str]:
    """Every module of `packages` except those that define one of `workflow_classes`."""
    defining = {cls.__module__ for cls in workflow_classes}
    names = []
    for package in packages:
        prefix = package.__name__ + "."
        for found in pkgutil.walk_packages(package.__path__, prefix):
            if found.name not in defining:
                names.append(found.name)
    return sorted(names)


def workflow_runner(workflow_classes: Iterable[type]) -> SandboxedWorkflowRunner:
    passthrough = helper_modules([workflows, trends], workflow_classes)
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*passthrough)
    return SandboxedWorkflowRunner(restrictions=restrictions)
