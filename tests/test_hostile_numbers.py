"""Hostile numbers (issue #9): a version number is plain decimal digits wherever it is written (stage files,
manifests, references and options on the command line); numbers too large or not finite for what they
count (sizes, durations, integers past Python's conversion limit) are findings or one-line errors, never
"internal error"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.snapshot import MemorySnapshot
from gitreg.storage import LocalStore
from gitreg.storage.artifact import TREE_KIND
from gitreg.validate import View, validate
from testing import Result, git, run, sha256, tree_state, write_bytes

DIGEST = "sha256:" + "ab" * 32
HUGE = "1" * 5000  # past Python's int-str conversion limit (4300 digits)

REGISTRY = """\
apiVersion: gitreg/v1
kind: Registry
storage:
  url: file:///srv/gitreg/blobs
stages:
  - name: staging
"""
MODEL = 'apiVersion: gitreg/v1\nkind: Model\nname: fraud\nowners: ["@risk-ml"]\n'


def version(number: str = "1", extra: str = "") -> str:
    return (
        "apiVersion: gitreg/v1\n"
        "kind: ModelVersion\n"
        "model: fraud\n"
        f"version: {number}\n"
        "artifact:\n"
        f"  digest: {DIGEST}\n"
        "  size: 10\n"
        "  type: file\n"
        "  name: model.bin\n"
        'created_at: "2026-11-22T10:00:00Z"\n'
        "created_by: Alice\n" + extra
    )


def lint(changes: dict[str, str]) -> list[str]:
    files = {
        "registry.yaml": REGISTRY,
        "models/fraud/model.yaml": MODEL,
        "models/fraud/versions/1.yaml": version(),
        "models/fraud/versions/8.yaml": version("8"),
        "models/fraud/versions/10.yaml": version("10"),
        "stages/staging.yaml": "fraud: 1\n",
    }
    files.update(changes)
    report = validate(View(MemorySnapshot({p: c.encode() for p, c in files.items()})))
    return [str(f) for f in report.findings]


def not_a_version(where: str, text: str) -> str:
    return f"{where}: expected a version number in plain decimal digits, such as 3, not {text!r}"


# --- version numbers in files -------------------------------------------------------------------------

# YAML 1.1 reads each of these as an integer: octal, hex, binary, underscores, a sign, base 60.
NOT_DECIMAL = ["010", "01", "0x0a", "0b1010", "1_0", "+10", "+1", "0_1", "1:0", "00"]


@pytest.mark.parametrize("text", NOT_DECIMAL)
def test_a_stage_entry_is_plain_decimal(text: str) -> None:
    assert lint({"stages/staging.yaml": f"# staging\nfraud: {text}\n"}) == [
        f"stages/staging.yaml:2:1: schema: {not_a_version('fraud', text)}"
    ]


@pytest.mark.parametrize("text", NOT_DECIMAL)
def test_a_manifest_version_and_parent_are_plain_decimal(text: str) -> None:
    manifest = version("1", f"lineage:\n  parent: {text}\n").replace("version: 1", f"version: {text}")
    assert lint({"models/fraud/versions/1.yaml": manifest}) == [
        f"models/fraud/versions/1.yaml:4:1: schema: {not_a_version('version', text)}",
        f"models/fraud/versions/1.yaml:13:3: schema: {not_a_version('lineage.parent', text)}",
    ]


@pytest.mark.parametrize("text", ["010", "0x0a", "1_0", "+10"])
def test_an_explicit_int_tag_is_plain_decimal_too(text: str) -> None:
    assert lint({"stages/staging.yaml": f"fraud: !!int {text}\n"}) == [
        f"stages/staging.yaml:1:8: yaml: {text!r} is not an integer in plain decimal digits"
    ]


def test_plain_decimal_versions_and_other_numbers_still_read() -> None:
    assert lint({"stages/staging.yaml": "fraud: 10\n"}) == []
    # (1e400 reads as infinity, which the non-finite-metric rule refuses: tests/cli/test_clean_output.py)
    numbers = "metrics: {auc: 0.9, loss: -3, big: 1e300, count: 12}\nparams: {mode: 010, hex: 0x1f}\n"
    assert lint({"models/fraud/versions/1.yaml": version("1", numbers)}) == []


def test_an_integer_past_the_conversion_limit_is_a_finding() -> None:
    # In a stage file (the fast path for stage files must not choke on it either), a manifest and as data.
    assert lint({"stages/staging.yaml": f"fraud: {HUGE}\n"}) == [
        "stages/staging.yaml:1:8: yaml: an integer of 5000 digits is too long (at most 4300)"
    ]
    assert lint({"models/fraud/versions/1.yaml": version(HUGE)}) == [
        "models/fraud/versions/1.yaml:4:10: yaml: an integer of 5000 digits is too long (at most 4300)"
    ]
    assert lint({"models/fraud/versions/1.yaml": version("1", f"params: {{seed: -{HUGE}}}\n")}) == [
        "models/fraud/versions/1.yaml:12:16: yaml: an integer of 5000 digits is too long (at most 4300)"
    ]


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("1e400", "artifact.size: Input should be a valid integer"),
        (".inf", "artifact.size: Input should be a valid integer"),
        (".nan", "artifact.size: Input should be a valid integer"),
        ("-1", "artifact.size: Input should be greater than or equal to 0"),
        (str(2**63), f"artifact.size: Input should be less than or equal to {2**63 - 1}"),
    ],
)
def test_an_artifact_size_is_a_finite_63_bit_count(size: str, message: str) -> None:
    manifest = version().replace("size: 10", f"size: {size}")
    assert lint({"models/fraud/versions/1.yaml": manifest}) == [
        f"models/fraud/versions/1.yaml:7:3: schema: {message}"
    ]


def test_validate_names_the_file_and_line_and_exits_1(registry: Path) -> None:
    (registry / "stages" / "staging.yaml").write_text("fraud: 010\n")
    result = run("validate", cwd=registry)
    assert result.exit_code == 1, result.stderr
    assert not_a_version("stages/staging.yaml:1:1: schema: fraud", "010") in result.stdout
    assert "internal error" not in result.stdout + result.stderr


# --- version numbers on the command line ---------------------------------------------------------------


def assert_error(result: Result, code: int, message: str) -> None:
    assert (result.exit_code, result.stderr) == (code, f"error: {message}\n"), result.stdout
    assert result.stdout == ""


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 .. fraud@3, so that a misread number would find a version."""
    art = write_bytes(tmp_path / "art" / "model.bin", 100, 1)
    for _ in range(3):
        result = run("register", "fraud", art, cwd=registry)
        assert result.exit_code == 0, result.stderr
    return registry


BAD_SELECTORS = ["03", "01", "0x3", "0b11", "+1", "1_0", "\uff10\uff11", "²", "٣", "-1", HUGE]


@pytest.mark.parametrize("selector", BAD_SELECTORS)
def test_a_reference_names_a_version_in_plain_decimal(populated: Path, selector: str) -> None:
    ref = f"fraud@{selector}"
    shown = ref if len(ref) < 40 else ref[:20] + "..."
    message = (
        f"{shown!r} is not a reference: a version is written in plain decimal digits "
        "(write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest)"
    )
    before = tree_state(populated)
    for command in (["show"], ["pull"], ["promote", "--to", "staging"], ["archive"], ["diff", "fraud@1"]):
        assert_error(run(command[0], ref, *command[1:], cwd=populated), 2, message)
    assert tree_state(populated) == before


def test_a_plain_decimal_reference_still_resolves(populated: Path) -> None:
    result = run("show", "fraud@3", "--json", cwd=populated)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 3


@pytest.mark.parametrize("value", ["010", "+3", "1_0", "\uff10\uff11", "0", HUGE])
def test_version_options_are_plain_decimal(populated: Path, tmp_path: Path, value: str) -> None:
    art = write_bytes(tmp_path / "other.bin", 50, 2)
    shown = value if len(value) < 40 else value[:20] + "..."
    before = tree_state(populated)
    for argv in (
        ["register", "fraud", art, "--version", value],
        ["register", "fraud", art, "--parent", value],
        ["rollback", "fraud", "--stage", "staging", "--to", value],
    ):
        result = run(*argv, cwd=populated)
        assert result.exit_code == 2, (result.stdout, result.stderr)
        assert result.stderr.endswith(
            f"{shown!r} is not a version number: write plain decimal digits, such as 3\n"
        ), result.stderr
        assert result.stderr.count("\n") == 1
    assert tree_state(populated) == before


# --- tree listings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", ["1e400", "-1e400", "NaN", "Infinity", "1.5", "true", '"10"', "-1", str(2**63), HUGE]
)
def test_a_tree_listing_size_is_a_plain_63_bit_count(
    registry: Path, blobs: Path, tmp_path: Path, size: str
) -> None:
    """A listing whose size is not a non-negative integer below 2**63 is refused on pull, cleanly."""
    content = b"hello"
    entry = f'{{"digest":"{sha256(content)}","executable":false,"path":"a.txt","size":{size}}}'
    listing = f'{{"entries":[{entry}],"kind":"{TREE_KIND}"}}\n'.encode()
    _store_blob(blobs, content)
    digest = _store_blob(blobs, listing)
    _commit_tree_version(registry, digest)
    dest = tmp_path / "out"
    result = run("pull", "fraud@1", "-o", dest, cwd=registry)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"error: blob {digest} is not a valid tree listing"), result.stderr
    assert "internal error" not in result.stderr
    assert not dest.exists()


def _store_blob(blobs: Path, data: bytes) -> str:
    digest = sha256(data)
    path = LocalStore(blobs).path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def _commit_tree_version(registry: Path, digest: str) -> None:
    folder = registry / "models" / "fraud"
    (folder / "versions").mkdir(parents=True)
    (folder / "model.yaml").write_text(MODEL)
    text = version().replace(DIGEST, digest).replace("type: file", "type: tree").replace("model.bin", "tree")
    (folder / "versions" / "1.yaml").write_text(text)
    git(registry, "add", "--all")
    git(registry, "commit", "--quiet", "-m", "fraud@1")


# --- gc --grace --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grace", ["99999999999d", "1" + "0" * 400 + "d", HUGE, "\uff11d", "9" * 30 + "w"])
def test_gc_grace_out_of_range_is_a_usage_error(registry: Path, blobs: Path, grace: str) -> None:
    before = tree_state(blobs)
    result = run("gc", "--grace", grace, "--yes", cwd=registry)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: --grace "), result.stderr
    assert result.stderr.count("\n") == 1
    assert "internal error" not in result.stderr
    assert tree_state(blobs) == before


def test_gc_grace_up_to_a_century_is_accepted(registry: Path) -> None:
    for grace in ("36500d", "5214w", "0"):
        result = run("gc", "--grace", grace, cwd=registry)
        assert result.exit_code == 0, result.stderr


# --- file:// storage URLs ----------------------------------------------------------------------------------


NO_FOLDER = "names no folder (file URLs look like file:///absolute/path)"
NUL = "contains a NUL character (file URLs look like file:///absolute/path)"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://", f"storage URL 'file://' {NO_FOLDER}"),
        ("file://localhost", f"storage URL 'file://localhost' {NO_FOLDER}"),
        ("file:///tmp/a%00b", f"storage URL 'file:///tmp/a%00b' {NUL}"),
    ],
)
def test_a_file_url_without_a_usable_path(
    registry: Path, tmp_path: Path, url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    art = write_bytes(tmp_path / "art.bin", 10)
    before = tree_state(registry)
    monkeypatch.setenv("GITREG_STORAGE_URL", url)
    assert_error(run("register", "fraud", art, cwd=registry), 2, message)
    assert tree_state(registry) == before
    monkeypatch.delenv("GITREG_STORAGE_URL")
    assert_error(run("init", tmp_path / "new", "--storage", url, cwd=tmp_path), 2, message)
    assert not (tmp_path / "new").exists()


def test_a_storage_path_with_a_nul(tmp_path: Path) -> None:
    path = f"{tmp_path}/a\0b"
    result = run("init", tmp_path / "new", "--storage", path, cwd=tmp_path)
    assert_error(result, 2, f"storage path {path!r} {NUL}")
    assert not (tmp_path / "new").exists()


# --- pull request numbers in commit messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        f"Promote fraud@1 (#{HUGE})",
        f"Merge pull request #{HUGE} from a/b",
        f"Promote\n\nSee merge request a/b!{HUGE}",
    ],
)
def test_history_and_audit_read_any_pull_request_number(registry: Path, tmp_path: Path, message: str) -> None:
    """A commit message is anyone's text: a pull request "number" past the conversion limit is no number."""
    result = run("register", "fraud", write_bytes(tmp_path / "m.bin", 10), cwd=registry)
    assert result.exit_code == 0, result.stderr
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    git(registry, "add", "--all")
    git(registry, "commit", "--quiet", "--no-verify", "-m", message)
    for argv in (["history", "fraud"], ["audit"]):
        result = run(*argv, cwd=registry)
        assert result.exit_code == 0, (argv, result.stderr)
        assert "internal error" not in result.stderr


# --- controller durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "1e17", "99999999999999999", "-1"])
@pytest.mark.parametrize("option", ["--interval", "--hook-timeout"])
def test_controller_durations_are_finite_and_bounded(
    registry: Path, tmp_path: Path, option: str, value: str
) -> None:
    """Slept or waited on, an absurd duration overflowed the clock after the first reconcile (or slept
    forever): in a subprocess with a timeout, so that a regression fails instead of hanging."""
    target = tmp_path / "target"
    argv = [
        "controller",
        "--repo",
        str(registry),
        "--stage",
        "staging",
        "--target",
        str(target),
        option,
        value,
    ]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gitreg", *argv], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"gitreg controller {option} {value} ran on instead of refusing the value")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"{value!r} is not a number of seconds from " in result.stderr
    assert result.stderr.count("\n") == 1
    assert not target.exists()
