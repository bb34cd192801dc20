"""The catalogue of the validator's rules: every rule id a finding can carry, its family, its scope, its
default severity and what it checks, in one place. ``gitreg validate --list-rules`` prints it, the README's
table of rules is generated from it, and the validator reads the scopes from it to decide what a change
must re-check. A test holds the catalogue and the code to each other, both ways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitreg.validate.findings import Severity

#: file: one file on its own; cross-file: files that refer to each other; change: a change against a base
#: (``--base``); store: the blob store (``--check-artifacts``).
Family = Literal["file", "cross-file", "change", "store"]
#: What one run of a rule looks at, and so what a change must touch for ``--base`` to run it again.
Scope = Literal["file", "model-folder", "stage-entry", "registry"]

#: Each scope, and the changes that make a rule of that scope run again with ``--base``. A change to
#: registry.yaml (stages, policies, limits) also re-runs the file and stage-entry rules on everything.
SCOPES: dict[Scope, str] = {
    "file": "one file: runs again when that file changes",
    "model-folder": "one models/<model>/ folder: runs again when anything in the folder changes",
    "stage-entry": "one entry of a stage file: runs again when the entry, or any file of its model, changes",
    "registry": "the whole registry: runs on every validation",
}


@dataclass(frozen=True)
class Rule:
    id: str
    family: Family
    scope: Scope
    summary: str
    severity: Severity = "error"


RULES: tuple[Rule, ...] = (
    Rule("yaml", "file", "file", "the file is valid YAML: no syntax error, duplicate key, alias or tag"),
    Rule("schema", "file", "file", "the file matches its kind's schema: known fields, right types"),
    Rule("path-mismatch", "file", "file", "a model's name and a version's model and number match the path"),
    Rule("stray-file", "file", "file", "models/ holds only model.yaml and versions/<n>.yaml files"),
    Rule("unsafe-name", "file", "file", "artifact.name is one portable file name"),
    Rule("non-finite-metric", "file", "file", "every metric is a finite number: no .nan or .inf"),
    Rule("credential", "file", "file", "nothing that looks like a key, token or password is committed"),
    Rule("large-file", "file", "file", "no file is over rules.max_file_size (1 MiB by default)"),
    Rule("no-owners", "file", "file", "a model names its owners", "warning"),
    Rule("unknown-stage", "file", "file", "a stage file is <stage>.yaml for a stage registry.yaml declares"),
    Rule(
        "config",
        "file",
        "registry",
        "registry.yaml exists, declares each stage once, requires only declared stages; policies name them",
    ),
    Rule(
        "retention",
        "file",
        "file",
        "a retention policy (registry.yaml's or a model's) protects only stages registry.yaml declares",
    ),
    Rule("missing-model-file", "cross-file", "model-folder", "every model folder has its model.yaml"),
    Rule("stage-entry", "cross-file", "stage-entry", "a stage entry names an existing, valid version"),
    Rule("stage-archived", "cross-file", "stage-entry", "a stage entry names an active version"),
    Rule("policy-field", "cross-file", "stage-entry", "a staged version has the fields its stage requires"),
    Rule(
        "policy-metric", "cross-file", "stage-entry", "a staged version meets its stage's metric thresholds"
    ),
    Rule("immutable", "change", "file", "a merged version changes only its status, tags and description"),
    Rule("version-removed", "change", "file", "a merged version file is never deleted or renamed"),
    Rule("version-number", "change", "file", "a new version's number is above the base's highest"),
    Rule(
        "stage-transition",
        "change",
        "stage-entry",
        "a version enters a stage only from the stages it requires on the base (rollbacks excepted)",
    ),
    Rule("stage-undeclared", "change", "stage-entry", "a version enters only a stage the base declares"),
    Rule("artifact", "store", "file", "every referenced blob is in the store with the recorded size"),
)

RULE_IDS = frozenset(r.id for r in RULES)


def rule(rule_id: str) -> Rule:
    """The catalogue's entry for ``rule_id``."""
    return next(r for r in RULES if r.id == rule_id)


def scopes(*families: Family) -> set[Scope]:
    """The scopes the rules of ``families`` need to run over."""
    return {r.scope for r in RULES if r.family in families}


def markdown_table() -> str:
    """The catalogue as the README's Markdown table."""
    lines = ["| rule | family | scope | severity | checks that |", "|---|---|---|---|---|"]
    lines += [
        f"| `{r.id}` | {r.family} | {r.scope} | {r.severity} | {r.summary.replace('<', '&lt;')} |"
        for r in RULES
    ]
    return "\n".join(lines) + "\n"


def text_table() -> str:
    """The catalogue as ``gitreg validate --list-rules`` prints it."""
    width = max(len(r.id) for r in RULES)
    lines = [f"{'rule':<{width}}  {'family':<10}  {'scope':<12}  {'severity':<8}  checks that"]
    lines += [f"{r.id:<{width}}  {r.family:<10}  {r.scope:<12}  {r.severity:<8}  {r.summary}" for r in RULES]
    return "\n".join(lines) + "\n"


def as_dicts() -> list[dict[str, str]]:
    return [
        {"id": r.id, "family": r.family, "scope": r.scope, "severity": r.severity, "summary": r.summary}
        for r in RULES
    ]
