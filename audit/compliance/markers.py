"""Which tests name which clauses: read from the test sources, without importing them.

A test names its clauses with `@pytest.mark.clause("21 CFR 803", ...)`; a module names them
for all its tests with `pytestmark = pytest.mark.clause(...)` (or a list of marks). Reading
the source (`ast`) instead of collecting with pytest keeps the generator fast and free of
the test suite's imports; `tests/conftest.py` refuses unknown clause ids at collection too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Marked:
    test: str  # pytest node id without parameters: tests/x/test_y.py::test_z
    clauses: tuple[str, ...]


def marked_tests(repo: Path, tests: str = "tests") -> list[Marked]:
    """Every test (function or method) with a clause marker, in file and line order."""
    found: list[Marked] = []
    for path in sorted((repo / tests).rglob("test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(repo).as_posix()
        everywhere = _module_clauses(module)
        for node_id, clauses in _tests(module, relative):
            combined = tuple(dict.fromkeys((*everywhere, *clauses)))
            if combined:
                found.append(Marked(node_id, combined))
    return found


def existing_tests(repo: Path, tests: str = "tests") -> set[str]:
    """Every test function's node id (without parameters): to check a row's tests exist."""
    ids: set[str] = set()
    for path in sorted((repo / tests).rglob("test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        ids.update(node_id for node_id, _ in _tests(module, path.relative_to(repo).as_posix()))
    return ids


def _tests(module: ast.Module, relative: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    for node in module.body:
        if _is_test(node):
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            yield f"{relative}::{node.name}", _decorator_clauses(node.decorator_list)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            outer = _decorator_clauses(node.decorator_list)
            for member in node.body:
                if _is_test(member):
                    assert isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
                    inner = _decorator_clauses(member.decorator_list)
                    yield f"{relative}::{node.name}::{member.name}", (*outer, *inner)


def _is_test(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def _module_clauses(module: ast.Module) -> tuple[str, ...]:
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            marks = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            return _decorator_clauses(marks)
    return ()


def _decorator_clauses(decorators: list[ast.expr]) -> tuple[str, ...]:
    clauses: list[str] = []
    for decorator in decorators:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "clause"
            and ast.unparse(decorator.func.value) == "pytest.mark"
        ):
            for arg in decorator.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    raise ValueError(
                        f"pytest.mark.clause takes clause ids as plain strings: "
                        f"{ast.unparse(arg)} (line {arg.lineno})"
                    )
                clauses.append(arg.value)
    return tuple(clauses)
