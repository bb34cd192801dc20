"""``gitreg catalog build``: the pages and their stable URLs, relative links, what each page shows, escaping,
and every failure leaving the output as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testing import assert_error, git, run, tree_state
from testing.catalog_demo import HOSTILE_DESCRIPTION, HOSTILE_MODEL, Demo


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_model_and_version_has_a_page_at_its_stable_url(site: Path, demo: Demo) -> None:
    assert (site / "index.html").is_file()
    assert (site / "audit" / "index.html").is_file()
    for model, count in demo.models.items():
        assert (site / "models" / model / "index.html").is_file()
        for number in range(1, count + 1):
            assert (site / "models" / model / str(number) / "index.html").is_file()
    expected = 2 + len(demo.models) + sum(demo.models.values())
    assert len(pages(site)) == expected
    index = json.loads((site / "index.json").read_text())
    assert sorted(m["name"] for m in index["models"]) == sorted(demo.models)


def test_links_are_relative_and_nothing_comes_from_the_network(site: Path) -> None:
    for page in pages(site):
        html = page.read_text()
        for attr, target in re.findall(r'\b(href|src)="([^"]*)"', html):
            assert not re.match(r"^(/|[a-z]+:)", target), (page, attr, target)  # no absolute URL at all
            if not target.startswith("#"):
                resolved = (page.parent / target.split("#")[0]).resolve()
                assert resolved.is_file(), (page, target)  # every link lands on a file of the site
        assert "@import" not in html and "url(" not in html


def test_base_url_adds_canonical_urls_only(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = run(
        "catalog", "build", "-o", out, "--base-url", "https://ml.example.com/registry", cwd=demo_copy
    )
    assert result.exit_code == 0, result.stderr
    html = (out / "models" / "churn" / "index.html").read_text()
    assert '<link rel="canonical" href="https://ml.example.com/registry/models/churn/">' in html
    assert 'href="../../static/catalog.css"' in html


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://example.com/",
            "--base-url 'ftp://example.com/' is not an http(s) URL (e.g. https://org.github.io/registry/)",
        ),
        ("registry/", "--base-url 'registry/' is not an http(s) URL (e.g. https://org.github.io/registry/)"),
        (
            "https://u:secret@example.com/",
            "--base-url must not carry credentials: every page would publish them",
        ),
    ],
)
def test_a_bad_base_url_is_a_usage_error(demo_copy: Path, tmp_path: Path, url: str, message: str) -> None:
    result = run("catalog", "build", "-o", tmp_path / "out", "--base-url", url, cwd=demo_copy)
    assert_error(result, 2, message)
    assert not (tmp_path / "out").exists()


def test_hostile_texts_are_escaped_everywhere(site: Path) -> None:
    for page in [site / "index.html", site / "models" / HOSTILE_MODEL / "index.html"]:
        html = page.read_text()
        assert "<script>window.__pwned" not in html and "<img src=x" not in html
        assert (
            "&lt;script&gt;window.__pwned = 1&lt;/script&gt; &#34;double&#34; &#39;single&#39; &amp; "
            "ünïcødé ✓" in html
        )
        assert "note=&lt;b&gt;bold?&lt;/b&gt;" in html
    script = (site / "search-index.js").read_text()
    assert "</script" not in script and "<" not in script
    index = json.loads((site / "index.json").read_text())
    assert {m["name"]: m["description"] for m in index["models"]}[HOSTILE_MODEL] == HOSTILE_DESCRIPTION


def test_model_page_charts_one_point_per_version_and_rings_the_stages(site: Path) -> None:
    html = (site / "models" / "fraud-detector" / "index.html").read_text()
    charts = re.findall(r'<svg class="chart".*?</svg>', html)
    assert [re.search(r'data-metric="([^"]+)"', c).group(1) for c in charts] == ["auc", "f1", "latency_ms"]  # type: ignore[union-attr]
    for svg in charts:
        assert re.findall(r'data-version="(\d+)"', svg) == ["1", "2", "3", "4", "5", "6"]
        assert svg.count('class="ring"') == 2  # staging holds v6, production v5
        assert ">production</text>" in svg and ">staging</text>" in svg


def test_model_page_shows_history_with_the_audit_flags(site: Path) -> None:
    html = (site / "models" / "fraud-detector" / "index.html").read_text()
    rows = re.findall(r"<tr( class=\"flagged\")?>\n<td>[^<]*</td>\n<td>(staging|production)</td>", html)
    assert len(rows) == 5
    assert "direct-push" in html and "#11 (unconfirmed)" in html
    audit = (site / "audit" / "index.html").read_text()
    assert "8 changes; 8 flagged (1 direct pushes, 0 failing validation, 7 unconfirmed reviews)" in audit


def test_version_page_shows_manifest_diff_and_folder_files(site: Path) -> None:
    html = (site / "models" / "fraud-detector" / "5" / "index.html").read_text()
    assert "Compared with v4" in html and "(its parent)" in html
    assert '<th scope="row">metrics.auc</th><td>0.921</td><td>0.934</td><td class="num">+0.013</td>' in html
    assert "gitreg diff fraud-detector@4 fraud-detector@5" in html
    assert "kind: ModelVersion" in html  # the whole manifest
    first = (site / "models" / "fraud-detector" / "1" / "index.html").read_text()
    assert "nothing to compare with" in first
    tree = (site / "models" / "churn" / "2" / "index.html").read_text()
    for name in ("config.json", "tokenizer/vocab.txt", "weights.bin"):
        assert f"<code>{name}</code>" in tree


def test_folder_files_when_the_store_is_unreachable(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_STORAGE_URL", (tmp_path / "nowhere").as_uri())
    result = run("catalog", "build", "-o", tmp_path / "site", cwd=demo_copy)
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "site" / "models" / "churn" / "2" / "index.html").read_text()
    assert "could not" in html and "Build the catalog where the store can be reached" in html
    assert "<code>config.json</code>" not in html


def test_deployed_now_from_a_controllers_status(site: Path) -> None:
    html = (site / "index.html").read_text()
    assert "Deployed now" in html and "production on " in html
    row = re.search(r'<a href="models/fraud-detector/index.html">fraud-detector</a></td><td>(.*?)</td>', html)
    assert row is not None and "v5" in row.group(1)


def test_status_folder_and_bad_status_files(demo: Demo, demo_copy: Path, tmp_path: Path) -> None:
    assert demo.status is not None
    folder = demo.status.parent.parent  # the target: its .gitreg/status.json is found
    result = run("catalog", "build", "-o", tmp_path / "a", "--status", folder, cwd=demo_copy)
    assert result.exit_code == 0, result.stderr
    assert "Deployed now" in (tmp_path / "a" / "index.html").read_text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": "world"}')
    before = tree_state(tmp_path / "a")
    result = run("catalog", "build", "-o", tmp_path / "a", "--status", bad, cwd=demo_copy)
    assert_error(
        result,
        2,
        f"--status {bad} is not a gitreg controller status file "
        "(give the DIR/.gitreg/status.json a controller writes, or a folder of them)",
    )
    result = run("catalog", "build", "-o", tmp_path / "a", "--status", tmp_path / "missing", cwd=demo_copy)
    assert_error(result, 3, f"--status {tmp_path / 'missing'}: no such file or folder")
    assert tree_state(tmp_path / "a") == before


def test_an_empty_registry_builds_a_sensible_site(registry: Path, tmp_path: Path) -> None:
    result = run("catalog", "build", "-o", tmp_path / "site", cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"built 2 pages (0 models, 0 versions, {result.stdout.split('versions, ')[1]}"
    home = (tmp_path / "site" / "index.html").read_text()
    assert "This registry has no models yet" in home and "<script" not in home
    assert "No stage has changed on main yet" in (tmp_path / "site" / "audit" / "index.html").read_text()


def test_a_malformed_manifest_fails_the_build_and_leaves_the_site_as_it_was(
    demo_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert run("catalog", "build", "-o", out, cwd=demo_copy).exit_code == 0
    before = tree_state(out)
    path = demo_copy / "models" / "churn" / "versions" / "2.yaml"
    path.write_text(path.read_text().replace("status: active", "status: retired"))
    git(demo_copy, "commit", "--quiet", "-am", "Break churn@2")
    result = run("catalog", "build", "-o", out, cwd=demo_copy)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("status:"))
    assert_error(
        result,
        1,
        f"models/churn/versions/2.yaml:{line}:1: schema: status: Input should be 'active' or 'archived' "
        "(fix the registry, then build again: gitreg validate lists every problem)",
    )
    finding = result.stderr.removeprefix("error: ").split(" (fix the registry")[0]
    assert finding in run("validate", "--ref", "main", cwd=demo_copy).stdout  # the validator's own words
    assert tree_state(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry", "site"]  # no temporary folder left


def test_yaml_that_does_not_parse_fails_the_build_too(demo_copy: Path, tmp_path: Path) -> None:
    path = demo_copy / "models" / "recommender" / "model.yaml"
    path.write_text("name: [unclosed\n")
    git(demo_copy, "commit", "--quiet", "-am", "Break recommender")
    result = run("catalog", "build", "-o", tmp_path / "site", cwd=demo_copy)
    assert result.exit_code == 1 and result.stderr.startswith("error: models/recommender/model.yaml:")
    assert not (tmp_path / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry"]


def test_the_build_shows_the_ref_not_the_working_tree(demo_copy: Path, tmp_path: Path) -> None:
    path = demo_copy / "models" / "churn" / "model.yaml"
    path.write_text("broken: [\n")  # uncommitted: main is still valid
    result = run("catalog", "build", "-o", tmp_path / "site", cwd=demo_copy)
    assert result.exit_code == 0, result.stderr
    result = run("catalog", "build", "-o", tmp_path / "site", "--ref", "no-such-branch", cwd=demo_copy)
    assert result.exit_code == 3 and "no-such-branch does not name a commit" in result.stderr


@pytest.mark.parametrize("kind", ["file", "foreign folder"])
def test_an_output_that_is_not_a_catalog_is_never_replaced(
    demo_copy: Path, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("mine")
        message = f"{out} exists and is not a folder (choose another -o DIR)"
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        message = f"{out} is not empty and is not a catalog gitreg built (choose another -o DIR, or empty it)"
    before = tree_state(tmp_path)
    assert_error(run("catalog", "build", "-o", out, cwd=demo_copy), 3, message)
    assert tree_state(tmp_path) == before


def test_a_rebuild_replaces_the_previous_site_whole(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run("catalog", "build", "-o", out, cwd=demo_copy).exit_code == 0
    (out / "stale.html").write_text("old")
    assert run("catalog", "build", "-o", out, cwd=demo_copy).exit_code == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry", "site"]


def test_a_shallow_clone_is_refused_as_audit_refuses_it(demo: Demo, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", demo.registry.as_uri(), str(clone))
    result = run("catalog", "build", "-o", tmp_path / "site", cwd=clone)
    assert result.exit_code == 3 and "this clone is shallow" in result.stderr
    assert "git fetch --unshallow" in result.stderr
    assert not (tmp_path / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clone"]


def test_hostile_commit_messages_and_status_texts_are_escaped_too(demo_copy: Path, tmp_path: Path) -> None:
    stage = demo_copy / "stages" / "staging.yaml"
    stage.write_text(stage.read_text().replace("recommender: 3", "recommender: 2"))
    git(demo_copy, "commit", "--quiet", "-am", "<script>window.__pwned = 2</script> roll back")
    status = tmp_path / "status.json"
    status.write_text(
        json.dumps(
            {
                "apiVersion": "gitreg/v1",
                "kind": "ControllerStatus",
                "target": "<b>target</b>",
                "spec": {"repo": "x", "branch": "main", "stage": "production", "prune": False, "keep": 2},
                "models": {"churn": {"live": 3, "state": "failed", "error": "<img src=x onerror=alert(1)>"}},
            }
        )
    )
    out = tmp_path / "site"
    result = run("catalog", "build", "-o", out, "--status", status, cwd=demo_copy)
    assert result.exit_code == 0, result.stderr
    audit = (out / "audit" / "index.html").read_text()
    assert "&lt;script&gt;window.__pwned = 2&lt;/script&gt; roll back" in audit and "<script>" not in audit
    home = (out / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in home and "<img" not in home
    assert "<h3>production on &lt;b&gt;target&lt;/b&gt;</h3>" in home


def test_an_output_that_cannot_be_made_is_one_clear_error(demo_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("mine")
    before = tree_state(tmp_path / "file.txt")
    result = run("catalog", "build", "-o", tmp_path / "file.txt" / "site", cwd=demo_copy)
    assert_error(
        result,
        3,
        f"cannot write the catalog into {tmp_path / 'file.txt' / 'site'}: {tmp_path / 'file.txt'} is not a "
        "folder (choose another -o DIR)",
    )
    assert tree_state(tmp_path / "file.txt") == before
