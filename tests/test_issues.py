"""The issue-code registry: docs/issue-codes.md lists it exactly, and the source emits every code in it, literally."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from importer.issues import CODES, IssueCode, issue
from importer.models import Issue

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "importer"
#: The sandbox answers with the API's error messages; it emits no issue codes.
SANDBOX = PACKAGE / "sandbox"
KEBAB = re.compile(r"[a-z]+(-[a-z]+)+")


def severity_cell(declared: IssueCode) -> str:
    """The documented severity column: "warning", or "warning; error with `strict: true`" for a code that varies."""
    if not declared.otherwise:
        return declared.severity
    other = "error" if declared.severity == "warning" else "warning"
    return f"{declared.severity}; {other} {declared.otherwise}"


def documented_table() -> list[tuple[str, str, str, str]]:
    text = (ROOT / "docs" / "issue-codes.md").read_text(encoding="utf-8")
    assert text.startswith("# Issue codes\n")
    section = text.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    return [(code.strip("`"), severity, effect, meaning) for code, severity, effect, meaning in cells]


def test_the_docs_list_every_code_with_its_severity_effect_and_meaning() -> None:
    expected = [(code, severity_cell(declared), declared.effect, declared.meaning)
                for code, declared in CODES.items()]
    table = "\n".join(f"| `{code}` | {severity} | {effect} | {meaning} |"
                      for code, severity, effect, meaning in expected)
    assert documented_table() == expected, f"docs/issue-codes.md should list:\n{table}"


def test_an_error_rejects_the_row_and_a_code_that_drops_a_field_varies_with_on_invalid() -> None:
    for code, declared in CODES.items():
        assert declared.effect and "|" not in declared.effect, code
        if declared.severity == "error" and not declared.otherwise:
            assert declared.effect == "rejects the row", code
        if "drops the field" in declared.effect:
            assert "on_invalid" in declared.otherwise + declared.effect, code


def test_codes_are_kebab_case_with_a_one_line_meaning() -> None:
    for code, declared in CODES.items():
        assert KEBAB.fullmatch(code), code
        assert declared.severity in ("error", "warning"), code
        assert declared.meaning and "\n" not in declared.meaning and "|" not in declared.meaning, code


# --- the source -----------------------------------------------------------------------------------------


def scanned_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if not path.is_relative_to(SANDBOX)]


def _code_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((keyword.value for keyword in call.keywords if keyword.arg == "code"), None)


def scan() -> tuple[set[str], list[str]]:
    """(codes emitted literally, emission sites that break the rules) over the package's source."""
    emitted: set[str] = set()
    wrong: list[str] = []
    for path in scanned_files():
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            if name == "Issue" and path != PACKAGE / "issues.py":
                wrong.append(f"{where}:{node.lineno}: Issue(...) built directly; use issue(code, ...)")
            if name not in ("issue", "PhoneProblem"):
                continue
            code = _code_argument(node)
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                emitted.add(code.value)
            elif not (name == "issue" and isinstance(code, ast.Attribute) and code.attr == "code"):
                # The one exception: a PhoneProblem's code (itself a literal in importer/phones) passed on.
                wrong.append(f"{where}:{node.lineno}: {name}(...) with a code that is not a string literal")
    return emitted, wrong


def test_every_code_is_emitted_by_its_literal_name_and_declared() -> None:
    emitted, wrong = scan()
    assert wrong == []
    assert sorted(emitted - CODES.keys()) == [], "emitted but not declared in importer/issues.py"
    assert sorted(CODES.keys() - emitted) == [], "declared in importer/issues.py but never emitted"


def test_the_scan_sees_the_phone_problem_codes() -> None:
    emitted, _ = scan()
    assert {"empty-phone", "invalid-phone", "lossy-excel-number", "invalid-region"} <= emitted


# --- issue() --------------------------------------------------------------------------------------------


def test_issue_takes_the_declared_severity() -> None:
    assert issue("unknown-stage", 3, "Stage", "no stage", "Wonn") == Issue(3, "Stage", "warning", "unknown-stage",
                                                                          "no stage", "Wonn")
    assert issue("missing-phone", 3, "Phone", "no phone").severity == "error"
    assert issue("unknown-label", None, "Tags", "no label").severity == "warning"


def test_issue_refuses_an_undeclared_code() -> None:
    with pytest.raises(ValueError, match="undeclared issue code 'unknown-stages'"):
        issue("unknown-stages", 3, "Stage", "no stage")


def test_only_a_code_declared_to_vary_takes_the_other_severity() -> None:
    assert issue("duplicate-phone", 2, "Phone", "twice", severity="error").severity == "error"
    assert issue("unknown-lookup-value", 2, "Owner", "not in owners.csv", severity="warning").severity == "warning"
    with pytest.raises(ValueError, match="'unknown-label' is always 'warning'"):
        issue("unknown-label", 2, "Tags", "no label", severity="error")
