"""Each decision is defined once, in `workflows/decision_spec.py`, and everything else follows
from it; the sandbox polices our own workflow code."""

from __future__ import annotations

import ast
from pathlib import Path

from temporalio import workflow

from schemas.decisions import Decision
from schemas.outcomes import DecisionReceipt
from workflows import lifecycle
from workflows.complaint import ComplaintWorkflow
from workflows.decision_spec import SPEC, SPECS
from workflows.judgment import LOGIC

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


def test_there_is_one_spec_per_decision_in_lifecycle_order():
    assert [spec.decision for spec in SPECS] == list(Decision)
    assert set(SPEC) == set(Decision)


def test_the_lifecycle_table_and_the_logic_come_from_the_specs():
    for spec in SPECS:
        rule = lifecycle.RULES[spec.decision]
        assert (rule.allowed_in, rule.meaning, rule.entry_type) == (
            spec.allowed_in,
            spec.meaning,
            spec.entry_type,
        )
        assert LOGIC[spec.decision] is spec.logic


def test_each_update_is_typed_by_its_spec_and_has_a_validator():
    definition = workflow._Definition.from_class(ComplaintWorkflow)
    assert definition is not None
    for spec in SPECS:
        update = definition.updates[spec.decision.value]
        assert update.arg_types == [spec.input_type]
        assert update.ret_type is DecisionReceipt
        assert update.validator is not None


def passed_through_imports(path: Path) -> list[str]:
    """Module names imported inside `with workflow.unsafe.imports_passed_through():`."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.With):
            continue
        if "imports_passed_through" not in ast.unparse(node.items[0].context_expr):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.module:
                names.append(statement.module)
            elif isinstance(statement, ast.Import):
                names.extend(alias.name for alias in statement.names)
    return names


def test_only_contracts_and_activities_pass_through_the_sandbox():
    for path in sorted(WORKFLOWS_DIR.rglob("*.py")):
        for name in passed_through_imports(path):
            top = name.split(".")[0]
            assert top in {"schemas", "activities"}, f"{path.name} passes {name} through"
