"""The credential scan runs a pattern only over a file that holds one of its needles
(``gitreg.validate.rules.files.CREDENTIAL_NEEDLES``): every pattern has needles, and every match of a
pattern, over texts built to match each of them, holds one of its needles; the scan finds in a file what
the patterns alone find."""

from __future__ import annotations

import pytest

from gitreg.credentials import CREDENTIAL_PATTERNS
from gitreg.validate.rules.files import CREDENTIAL_NEEDLES, _credential_patterns

MATCHING: dict[str, list[str]] = {
    "an AWS access key id": ["AKIAABCDEFGHIJKLMNOP", "x ASIA0123456789ABCDEF y"],
    "an AWS secret access key": [
        "aws_secret_access_key: " + "a" * 40,
        "AWS_SECRET_ACCESS_KEY=" + "B/" * 19 + "BB",
        "AwsSecretAccessKey " + "+" * 39 + "a",
    ],
    "a private key": ["-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----"],
    "a GitHub token": ["ghp_" + "a" * 36, "gho_" + "Z" * 40, "ghs_" + "0" * 36, "github_pat_" + "a_" * 11],
    "a GitLab token": ["glpat-" + "a-" * 10 + "a"],
    "a Slack token": ["xoxb-" + "1" * 10, "xoxp-a-b-c-d-e-f"],
    "a Google API key": ["AIza" + "a" * 35],
    "an Azure storage account key": ["AccountKey=" + "a/" * 20],
    "a password in a URL": ["https://user:pass@host", "s3+x.y-z://a:b@c", "ftp://me:secret@example.com/x"],
}


def test_every_pattern_has_needles_and_samples() -> None:
    names = sorted(what for what, _ in CREDENTIAL_PATTERNS)
    assert sorted(CREDENTIAL_NEEDLES) == names
    assert sorted(MATCHING) == names


@pytest.mark.parametrize(("what", "pattern"), CREDENTIAL_PATTERNS, ids=[w for w, _ in CREDENTIAL_PATTERNS])
def test_every_match_holds_a_needle(what: str, pattern: object) -> None:
    lower, needles = CREDENTIAL_NEEDLES[what]
    for sample in MATCHING[what]:
        matches = [m.group(0) for m in dict(CREDENTIAL_PATTERNS)[what].finditer(f"notes: {sample}\n")]
        assert matches, sample
        for match in matches:
            assert any(n in (match.lower() if lower else match) for n in needles), match
        assert what in [w for w, _ in _credential_patterns(f"notes: {sample}\n")]


def test_a_clean_file_runs_no_pattern_but_those_its_text_calls_for() -> None:
    assert list(_credential_patterns("model: fraud\nversion: 3\n")) == []
    assert [w for w, _ in _credential_patterns("url: https://example.com\n")] == ["a password in a URL"]
