"""A pull request is judged by the rules of the branch it merges into: a change to registry.yaml's stages,
requirements or policies, or to a model's own policy, takes effect only after it is merged. A pull request
that relaxes a rule and, in the same diff, promotes a version that passes only under the relaxed rule is
refused; the rule change alone is fine, and so is the promotion in a later pull request."""

from __future__ import annotations

from pathlib import Path

from gitreg.registry import Registry
from gitreg.validate.runner import validate_registry
from testing import git, run, write_bytes

COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
READY = ("--description", "Retrained on November data", "--code-commit", COMMIT)
LATER = "a change to the rules takes effect only after it is merged"


def register(registry: Path, tmp_path: Path, model: str, seed: int, *options: str) -> None:
    art = write_bytes(tmp_path / "artifacts" / f"{model}-{seed}.bin", 300, seed)
    result = run("register", model, art, *options, cwd=registry)
    assert result.exit_code == 0, result.stderr


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def branch(repo: Path, name: str, start: str = "main") -> None:
    git(repo, "checkout", "--quiet", "-B", name, start)


def merge(repo: Path, name: str) -> None:
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", name, "-m", f"Merge {name}")


def edit(registry: Path, path: str, old: str, new: str) -> None:
    file = registry / path
    text = file.read_text()
    assert old in text, (old, text)
    file.write_text(text.replace(old, new))


def write(registry: Path, path: str, text: str) -> None:
    (registry / path).write_text(text)


def findings(registry: Path) -> list[str]:
    return [str(f) for f in validate_registry(Registry.open(registry), "main").findings]


def setup(registry: Path, tmp_path: Path) -> None:
    """On main: production needs auc >= 0.9 besides the template's rules; fraud@1 (auc 0.85, ready) and
    fraud@2 (auc 0.95, no description) are registered; fraud@1 is in staging."""
    edit(registry, "registry.yaml", "metrics: {}", "metrics: {auc: '>= 0.9'}")
    commit_all(registry, "Production needs auc >= 0.9")
    register(registry, tmp_path, "fraud", 1, *READY, "--metric", "auc=0.85", "--owner", "@risk")
    register(registry, tmp_path, "fraud", 2, "--code-commit", COMMIT, "--metric", "auc=0.95")
    write(registry, "stages/staging.yaml", "fraud: 1\n")
    commit_all(registry, "fraud@1 to staging")


def test_dropping_a_requirement_while_promoting(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    branch(registry, "skip-staging")
    edit(registry, "registry.yaml", "    requires: [staging]\n", "")
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {}")
    edit(registry, "registry.yaml", "fields: [description, lineage.code.commit]", "fields: []")
    write(registry, "stages/production.yaml", "fraud: 2\n")
    commit_all(registry, "Relax production and ship fraud@2")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-field: fraud@2 has no description, which stage 'production' "
        f"requires in registry.yaml at the base: {LATER}; merge the rule change first",
        "stages/production.yaml:1:1: stage-transition: fraud@2 must be in staging on the base before it "
        f"enters production, as registry.yaml at the base requires ({LATER}): promote it to staging first",
    ]


def test_lowering_a_threshold_while_promoting(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    branch(registry, "lower-auc")
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {auc: '>= 0.8'}")
    write(registry, "stages/production.yaml", "fraud: 1\n")
    commit_all(registry, "auc >= 0.8 is enough; ship fraud@1")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-metric: fraud@1 has auc=0.85; stage 'production' requires "
        f"auc >= 0.9 in registry.yaml at the base: {LATER}; merge the rule change first",
    ]


def test_removing_a_required_field_while_promoting(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    write(registry, "stages/staging.yaml", "fraud: 2\n")
    commit_all(registry, "fraud@2 to staging")
    branch(registry, "no-description")
    edit(
        registry,
        "registry.yaml",
        "fields: [description, lineage.code.commit]",
        "fields: [lineage.code.commit]",
    )
    write(registry, "stages/production.yaml", "fraud: 2\n")
    commit_all(registry, "Descriptions are optional; ship fraud@2")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-field: fraud@2 has no description, which stage 'production' "
        f"requires in registry.yaml at the base: {LATER}; merge the rule change first",
    ]


def test_lowering_a_models_own_threshold_while_promoting(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {}")
    policy = "policy:\n  production:\n    metrics: {auc: '>= 0.9'}\n"
    (registry / "models/fraud/model.yaml").write_text(
        (registry / "models/fraud/model.yaml").read_text().replace("policy: {}\n", "") + policy
    )
    commit_all(registry, "fraud's own policy")
    assert findings(registry) == []
    branch(registry, "lower-own")
    edit(registry, "models/fraud/model.yaml", "auc: '>= 0.9'", "auc: '>= 0.8'")
    write(registry, "stages/production.yaml", "fraud: 1\n")
    commit_all(registry, "fraud: auc >= 0.8; ship fraud@1")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-metric: fraud@1 has auc=0.85; stage 'production' requires "
        f"auc >= 0.9 in models/fraud/model.yaml at the base: {LATER}; merge the rule change first",
    ]


def test_adding_a_stage_and_promoting_into_it(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    branch(registry, "new-stage")
    edit(registry, "registry.yaml", "stages:\n", "stages:\n  - name: canary\n")
    write(registry, "stages/canary.yaml", "fraud: 2\n")
    commit_all(registry, "A canary stage, with fraud@2 in it")
    assert findings(registry) == [
        "stages/canary.yaml:1:1: stage-undeclared: fraud@2 enters stage 'canary', which registry.yaml at "
        f"the base does not declare: {LATER}; add the stage first, then promote into it",
    ]
    # the stage alone (an empty stage file) is fine, and so is the promotion once it is merged
    write(registry, "stages/canary.yaml", "{}\n")
    commit_all(registry, "An empty canary stage")
    assert findings(registry) == []
    merge(registry, "new-stage")
    branch(registry, "into-canary")
    write(registry, "stages/canary.yaml", "fraud: 2\n")
    commit_all(registry, "fraud@2 to canary")
    assert findings(registry) == []


def test_a_rule_change_alone_is_fine_and_counts_once_merged(registry: Path, tmp_path: Path) -> None:
    setup(registry, tmp_path)
    branch(registry, "relax")
    edit(registry, "registry.yaml", "    requires: [staging]\n", "")
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {auc: '>= 0.8'}")
    commit_all(registry, "Relax production")
    assert findings(registry) == []
    merge(registry, "relax")
    branch(registry, "ship")
    write(registry, "stages/production.yaml", "fraud: 1\n")
    commit_all(registry, "fraud@1 to production")
    assert findings(registry) == []


def test_tightening_a_rule_while_promoting_applies_the_new_rule(registry: Path, tmp_path: Path) -> None:
    """The head's own rules still hold: a stricter rule counts at once, and is not reported twice."""
    setup(registry, tmp_path)
    branch(registry, "tighten")
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {auc: '>= 0.9', f1: '>= 0.5'}")
    write(registry, "stages/production.yaml", "fraud: 1\n")
    commit_all(registry, "Production needs f1 too; ship fraud@1")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-metric: fraud@1 has auc=0.85; stage 'production' requires "
        "auc >= 0.9",
        "stages/production.yaml:1:1: policy-metric: fraud@1 has no metric 'f1'; stage 'production' "
        "requires f1 >= 0.5",
    ]


def test_relaxing_a_rule_while_changing_a_staged_version(registry: Path, tmp_path: Path) -> None:
    """Dropping the description from a version in production while dropping the rule that asks for it."""
    setup(registry, tmp_path)
    edit(registry, "registry.yaml", "metrics: {auc: '>= 0.9'}", "metrics: {}")
    write(registry, "stages/production.yaml", "fraud: 1\n")
    commit_all(registry, "fraud@1 to production")
    assert findings(registry) == []
    branch(registry, "undescribe")
    edit(
        registry,
        "registry.yaml",
        "fields: [description, lineage.code.commit]",
        "fields: [lineage.code.commit]",
    )
    edit(registry, "models/fraud/versions/1.yaml", "description: Retrained on November data\n", "")
    commit_all(registry, "Descriptions are optional")
    assert findings(registry) == [
        "stages/production.yaml:1:1: policy-field: fraud@1 has no description, which stage 'production' "
        f"requires in registry.yaml at the base: {LATER}; merge the rule change first",
    ]
