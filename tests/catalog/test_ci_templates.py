"""The CI files ``gitreg init`` writes build the catalog: on every pull (merge) request as an artifact, and on
main for GitHub or GitLab Pages, the latter only when the GITREG_CATALOG_PAGES variable says so. The
commands they run are taken from the rendered files and run here, on the demo registry (whose files
``gitreg init`` wrote). tests/ops/test_templates.py lints the files (actionlint, zizmor, GitLab's schema)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from testing import run

WORKFLOW = ".github/workflows/gitreg.yml"


def catalog_commands(script: str) -> list[list[str]]:
    return [
        shlex.split(line)[1:] for line in script.splitlines() if line.strip().startswith("gitreg catalog")
    ]


def run_in(registry: Path, argv: list[str], env: dict[str, str]) -> Path:
    argv = [env.get(a.lstrip("$"), a) for a in argv]
    result = run(*argv, cwd=registry)
    assert result.exit_code == 0, (argv, result.stderr)
    out = registry / argv[argv.index("-o") + 1]
    assert (out / "index.html").is_file() and (out / "models" / "churn" / "index.html").is_file()
    return out


def test_github_builds_on_pull_requests_and_publishes_from_main_behind_a_variable(demo_copy: Path) -> None:
    workflow: Any = yaml.safe_load((demo_copy / WORKFLOW).read_text())
    jobs = workflow["jobs"]
    pr_steps = jobs["validate-pr"]["steps"]
    built = [s for s in pr_steps if "gitreg catalog build" in s.get("run", "")]
    assert len(built) == 1 and "if" not in built[0]  # every pull request
    (command,) = catalog_commands(built[0]["run"])
    out = run_in(demo_copy, command, {})
    upload = next(s for s in pr_steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"].rstrip("/") == out.name
    main_steps = jobs["validate-main"]["steps"]
    gated = [s for s in main_steps if "catalog" in s.get("name", "").lower() or "pages" in s.get("uses", "")]
    assert len(gated) == 2 and all(s["if"] == "vars.GITREG_CATALOG_PAGES == 'true'" for s in gated)
    (command,) = catalog_commands(gated[0]["run"])
    assert gated[1]["with"]["path"].rstrip("/") == run_in(demo_copy, command, {}).name
    pages = jobs["catalog-pages"]
    assert pages["needs"] == "validate-main" and "vars.GITREG_CATALOG_PAGES == 'true'" in pages["if"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}


def test_gitlab_builds_on_merge_requests_and_publishes_pages_behind_a_variable(demo_copy: Path) -> None:
    ci: Any = yaml.safe_load((demo_copy / ".gitlab-ci.yml").read_text())
    mr, pages = ci["catalog-mr"], ci["pages"]
    assert mr["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert pages["rules"] == [
        {"if": '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $GITREG_CATALOG_PAGES == "true"'}
    ]
    (command,) = catalog_commands("\n".join(mr["script"]))
    assert mr["artifacts"]["paths"] == [run_in(demo_copy, command, {}).name + "/"]
    (command,) = catalog_commands("\n".join(pages["script"]))
    out = run_in(demo_copy, command, {"CI_PAGES_URL": "https://ml.gitlab.io/registry"})
    assert out.name == "public" and pages["artifacts"]["paths"] == ["public"]
    assert (
        'href="https://ml.gitlab.io/registry/models/churn/"' in (out / "models/churn/index.html").read_text()
    )
