"""``gitoutput.parse_log`` reads git log's output in chunks: a record is the same whatever the chunk sizes,
and a commit message cannot forge a record's mark or a changed file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitreg.gitoutput import LOG_FORMAT, parse_log
from testing import git

MESSAGES = [
    "first",
    "second\n\n\x1ebody starting with the mark's second character\n\x1e",
    "third\n\n:100644 100644 " + "a" * 40 + " " + "b" * 40 + " M\tstages/forged.yaml\nmore",
    "fourth \u00e9t\u00e9 \U0001f680\n\nbody\x1f\x1d\x1e\n",
    "fifth",
]


def commit(root: Path, path: str, text: str, message: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--cleanup=verbatim", "-m", message)


def _log(root: Path) -> bytes:
    argv = ["git", "-C", str(root), "log", "--first-parent", "--reverse", "--root", "--raw", "--no-abbrev"]
    return subprocess.run([*argv, f"--format={LOG_FORMAT}", "HEAD", "--", "stages/"], capture_output=True,
                          check=True, timeout=30).stdout  # fmt: skip


def _history(root: Path) -> bytes:
    git(root, "init", "--quiet")
    for number, message in enumerate(MESSAGES, 1):
        commit(root, "stages/production.yaml", f"fraud: {number}\n", message)
    commit(root, "stages/staging.yaml", "fraud: 5\n", "sixth\n\ntouches another stage")
    return _log(root)


Record = tuple[str, list[str], str, str, dict[str, tuple[str, str, str]]]


def _fields(out: bytes, size: int) -> list[Record]:
    chunks = [out[i : i + size] for i in range(0, len(out), size)]
    return [(c.commit, c.parents, c.subject, c.body, c.changes) for c in parse_log(chunks)]


def test_records_are_the_same_whatever_the_chunks(tmp_path: Path) -> None:
    out = _history(tmp_path)
    whole = _fields(out, len(out))
    assert [subject for _c, _p, subject, _b, _ch in whole] == [m.split("\n")[0] for m in MESSAGES] + ["sixth"]
    for size in (1, 2, 3, 5, 7, 64, 1000):
        assert _fields(out, size) == whole, size


def test_a_message_forges_neither_a_record_nor_a_change(tmp_path: Path) -> None:
    records = _fields(_history(tmp_path), 3)
    assert len(records) == 6
    for _commit, _parents, _subject, _body, changes in records:
        assert set(changes) <= {"stages/production.yaml", "stages/staging.yaml"}
        assert len(changes) == 1
    assert records[1][3].startswith("\x1ebody starting")
    assert records[5][4]["stages/staging.yaml"][2] == "A"
    assert records[4][4]["stages/production.yaml"][2] == "M"


def test_no_output_is_no_record() -> None:
    assert list(parse_log([])) == []
    assert list(parse_log([b""])) == []
