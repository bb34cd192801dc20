"""The validator's credential scan runs in linear time on any content (issue #9): the password-in-URL
pattern once took seconds on 64 KiB of lowercase letters and about an hour on 1 MiB, stalling pre-commit,
CI and every controller. Each pattern meets megabytes of the inputs that are worst for it, in a subprocess
with a generous timeout, so that a regression fails instead of hanging the suite."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gitreg.credentials import CREDENTIAL_PATTERNS
from gitreg.snapshot import MemorySnapshot
from gitreg.validate import View, validate

MIB = 1024 * 1024
TIMEOUT = 20  # seconds: linear code needs well under one for all of this, the old pattern about an hour


def fill(unit: str, tail: str = "") -> str:
    """``unit`` repeated to about a mebibyte, then ``tail``."""
    return unit * (MIB // len(unit)) + tail


#: For each pattern, the shapes of text that make a backtracking engine work hardest on it: long runs of
#: the characters it repeats, its prefix over and over, and a near-match whose last step fails.
WORST: dict[str, list[str]] = {
    "an AWS access key id": [fill("AKIA"), fill("A"), fill("ASIA1")],
    "an AWS secret access key": [
        fill("aws_secret_access_key "),
        fill("AWS_SECRET_ACCESS_KEY=" + "a" * 39 + "é"),
    ],
    "a private key": ["-----BEGIN " + fill("A"), fill("-----BEGIN A "), fill("-----BEGIN RSA PRIVATE KEY")],
    "a GitHub token": ["ghp_" + fill("a", "é"), fill("github_pat_", "é"), fill("ghp_a")],
    "a GitLab token": [fill("glpat-", " "), "glpat-" + fill("a", "é"), fill("glpat-a")],
    "a Slack token": [fill("xoxb-", " "), "xoxb-" + fill("a", "é"), fill("xoxp-1")],
    "a Google API key": [fill("AIza"), "AIza" + fill("a"), fill("AIza-")],
    "an Azure storage account key": [
        fill("AccountKey="),
        "AccountKey=" + fill("a", "!"),
        fill("AccountKey=a "),
    ],
    "a password in a URL": [
        fill("a"),
        fill("a1"),
        fill("a.b-"),
        "a://" + fill("b"),
        "a://b:" + fill("c"),
        "a://" + fill("b:"),
        fill("a:"),
        fill("a://b:c "),
        "http://" + fill(":"),
    ],
}

SCRIPT = """
import json, sys
from gitreg.snapshot import MemorySnapshot
from gitreg.validate import View, validate
texts = json.loads(sys.stdin.read())
files = {f"models/fraud/notes-{i}.txt": t.encode() for i, t in enumerate(texts)}
report = validate(View(MemorySnapshot(files)))
print(sum(f.rule == "credential" for f in report.findings))
"""


def test_every_pattern_has_its_worst_cases() -> None:
    assert sorted(WORST) == sorted(what for what, _ in CREDENTIAL_PATTERNS)


@pytest.mark.parametrize("what", sorted(WORST))
def test_the_credential_scan_is_linear(what: str) -> None:
    """A mebibyte of each worst case, under models/ (which every file there is scanned), validates in a
    subprocess that is killed after TIMEOUT seconds."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            input=json.dumps(WORST[what]),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the credential scan took over {TIMEOUT}s on a mebibyte shaped against {what}")
    assert result.returncode == 0, result.stderr


def test_many_matches_keep_their_lines() -> None:
    """A file full of matches: each finding still names its own line and column (counted on from the
    previous match, not from the top of the file each time)."""
    key = "AKIAIOSFODNN7EXAMPLE"
    text = "".join(f"{' ' * (i % 3)}{key}\n" for i in range(2000))
    findings = validate(View(MemorySnapshot({"models/fraud/notes.txt": text.encode()}))).findings
    found = [(f.line, f.col) for f in findings if f.rule == "credential"]
    assert found == [(i + 1, i % 3 + 1) for i in range(2000)]


def test_the_url_pattern_still_finds_what_it_found() -> None:
    pattern = dict(CREDENTIAL_PATTERNS)["a password in a URL"]
    for text, start in [
        ("see https://alice:hunter2@git.example.com/x", 4),
        ("1http://a:b@h", 1),
        ("Xhttps://a:b@h", 1),
        ("git+ssh://a:b@h", 0),
        ("a1http://a:b@h", 0),
    ]:
        match = pattern.search(text)
        assert match is not None, text
        assert match.start() == start, text
    for text in ["ssh://git@host:22/x", "https://host/a:b@c", "a" * 1000, "http://:@h"]:
        assert pattern.search(text) is None, text
