"""``gitreg.gitahead``: blobs asked of git ahead of a walk come back whole, in any order taken; a missing or
damaged one, or an object that is not a blob, is left out; git gone is a GitError, never a hang; closing
with requests unread does not hang."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gitreg.errors import GitError
from gitreg.gitahead import BlobsAhead, Ticket
from gitreg.gitrepo import GitRepo
from testing import git

TIMEOUT = 60  # seconds: a hang fails the test instead of stalling the suite


def _within(call: Callable[[], object]) -> object:
    """``call()``'s result, or a failure if it has not come back within TIMEOUT."""
    out: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "hung"
    if errors:
        raise errors[0]
    return out[0]


def _blobs(root: Path, count: int, size: int) -> dict[str, bytes]:
    git(root, "init", "--quiet")
    texts = {f"f{i}.txt": (f"{i}:" * size).encode()[:size] for i in range(count)}
    for name, text in texts.items():
        (root / name).write_bytes(text)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "files")
    listing = git(root, "ls-tree", "HEAD").splitlines()
    ids = {line.split("\t")[1]: line.split()[2] for line in listing}
    return {ids[name]: text for name, text in texts.items()}


def test_requests_come_back_whole_whatever_order_they_are_taken(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 300, 5000)  # 1.5 MB: more than the pipes hold, asked for in one go
    shas = list(blobs)
    missing = "1" * 40
    with GitRepo.open(tmp_path).blobs_ahead() as ahead:
        first = ahead.request([*shas[:200], missing])
        second = ahead.request(shas[200:])
        empty = ahead.request([])
        assert _within(second.result) == {sha: blobs[sha] for sha in shas[200:]}
        assert _within(first.result) == {sha: blobs[sha] for sha in shas[:200]}  # the missing one left out
        assert _within(empty.result) == {}
        assert ahead.requests == 2


def test_a_request_longer_than_git_input_pipe_holds_is_answered_at_once(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 1200, 300)  # 1,200 requests: 49 KB, more than ASKED_MAX
    shas = list(blobs)
    with GitRepo.open(tmp_path).blobs_ahead() as ahead:
        before = ahead.request(shas[:10])
        long = _within(lambda: ahead.request(shas))
        assert isinstance(long, Ticket) and long.done and before.done  # the earlier replies read first
        assert _within(long.result) == blobs
        assert _within(before.result) == {sha: blobs[sha] for sha in shas[:10]}


def test_a_damaged_object_is_left_out_as_git_calls_it_missing(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 3, 100)
    damaged, *others = list(blobs)
    loose = tmp_path / ".git" / "objects" / damaged[:2] / damaged[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    with GitRepo.open(tmp_path).blobs_ahead() as ahead:
        assert _within(ahead.request([damaged, *others]).result) == {sha: blobs[sha] for sha in others}


def test_an_object_that_is_not_a_blob_is_left_out(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 3, 100)
    tree, commit = git(tmp_path, "rev-parse", "HEAD^{tree}", "HEAD").split()
    with GitRepo.open(tmp_path).blobs_ahead() as ahead:
        assert _within(ahead.request([tree, *blobs, commit]).result) == blobs


def test_git_gone_is_an_error_not_a_hang(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 3, 100)
    with GitRepo.open(tmp_path).blobs_ahead() as ahead:
        assert _within(ahead.request(list(blobs)).result) == blobs
        os.kill(ahead._process.pid, signal.SIGKILL)  # as the OS might: the reader finds git's output cut
        ahead._process.wait(timeout=TIMEOUT)
        for _ in range(2):  # and every request after it fails at once
            with pytest.raises(GitError, match="git cat-file failed"):
                _within(ahead.request(list(blobs)).result)
    with pytest.raises(GitError, match="closed"):
        _within(ahead.request(list(blobs)).result)


def test_closing_with_requests_unread_does_not_hang(tmp_path: Path) -> None:
    blobs = _blobs(tmp_path, 50, 20000)
    ahead = GitRepo.open(tmp_path).blobs_ahead()
    for _ in range(5):
        ahead.request(list(blobs))
    _within(ahead.close)
    assert isinstance(ahead, BlobsAhead)
