"""The catalogue of rules and the code are held to each other: every rule id the code can put in a finding
is catalogued, every catalogued rule is emitted somewhere, every scope has its place in the scope logic,
the README's table is the catalogue's, and ``gitreg validate --list-rules`` prints it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from gitreg.validate import catalogue
from gitreg.validate.catalogue import RULE_IDS, RULES, SCOPES, scopes
from testing import run

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gitreg"


def _strings(node: ast.expr) -> set[str] | None:
    """The string constants an expression can be (a literal, or a conditional of literals), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def emitted_rule_ids() -> dict[str, set[str]]:
    """{rule id: files} of every rule id given to ``Finding(...)`` (4th argument or ``rule=``) anywhere in
    gitreg, and to the one helper that passes its rule through (``_finding(problem, rule)``)."""
    found: dict[str, set[str]] = {}
    opaque = []
    for source in sorted(PACKAGE.rglob("*.py")):
        where = source.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(source.read_text(), where)):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name == "Finding":
                arg = node.args[3] if len(node.args) > 3 else None
                arg = next((k.value for k in node.keywords if k.arg == "rule"), arg)
            elif name == "_finding":
                arg = node.args[1]
            else:
                continue
            assert arg is not None, f"{where}:{node.lineno}: a Finding without a rule"
            ids = _strings(arg)
            if ids is None:
                opaque.append(f"{where}:{node.lineno}")
                continue
            for rule_id in ids:
                found.setdefault(rule_id, set()).add(where)
    # A rule id must be written where the finding is made, so this scan (and a reader) can see it; the
    # only exception passes on the rule its callers name (and they are scanned).
    assert [o.split(":")[0] for o in opaque] == ["gitreg/validate/view.py"], opaque
    return found


def test_every_rule_the_code_emits_is_in_the_catalogue_and_back() -> None:
    emitted = emitted_rule_ids()
    assert sorted(set(emitted) - RULE_IDS) == []
    assert sorted(RULE_IDS - set(emitted)) == []


def test_the_catalogue_names_each_rule_once_with_a_known_scope() -> None:
    assert len(RULE_IDS) == len(RULES)
    assert {r.scope for r in RULES} == set(SCOPES)
    # the snapshot rules span every scope the scope logic knows: none is computed for nothing
    assert scopes("file", "cross-file") == set(SCOPES)


def test_each_family_lives_in_its_module() -> None:
    """Where a rule id is emitted agrees with its family: the store rule only in the store check, change
    rules only in the change rules, cross-file rules only in the stage rules."""
    emitted = emitted_rule_ids()
    homes = {
        "store": {"gitreg/validate/store.py"},
        "change": {"gitreg/validate/rules/change.py"},
        "cross-file": {"gitreg/validate/rules/stages.py"},
    }
    for rule in RULES:
        if rule.family in homes:
            assert emitted[rule.id] <= homes[rule.family], rule.id


def test_the_readme_table_is_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- rules: [^\n]*-->\n(.*?)<!-- end of rules -->", readme, re.S)
    assert match is not None, "README.md has no table of rules"
    assert match.group(1) == catalogue.markdown_table()


def test_list_rules_prints_the_catalogue_without_a_registry(tmp_path: Path) -> None:
    result = run("validate", "--list-rules", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == catalogue.text_table()
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rule", "family", "scope", "severity", "checks", "that"]
    assert [line.split()[0] for line in lines[1:]] == [r.id for r in RULES]
    assert "no-owners           file        file          warning" in result.stdout


def test_list_rules_as_json(tmp_path: Path) -> None:
    result = run("validate", "--list-rules", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    rules = json.loads(result.stdout)
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    assert rules[0] == {
        "id": "yaml",
        "family": "file",
        "scope": "file",
        "severity": "error",
        "summary": RULES[0].summary,
    }
