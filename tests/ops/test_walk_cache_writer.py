"""``gitreg.walk_cache_writer``: the walk cache's rows are written on a thread of their own, one JSON text per
table and batch. What the thread writes is what was added (read back by a second walk, text of any kind
exactly), ``close`` returns only once it is written, and a cache that cannot be written mid-walk (locked by
another gitreg, replaced by a link) costs only its rows: the audit is the same, nothing is written through
a link, and nothing hangs, not even a walk left open when the interpreter exits."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gitreg.gitrepo import GitRepo
from gitreg.ops.history import audit, audit_entries
from gitreg.walk_cache import _PENDING_ROWS, FILE_NAME, Transition, WalkCache, _connect, environment
from ops.test_audit_verdicts import _reference, crafted  # noqa: F401 - crafted: a fixture
from ops.test_walk_cache import _check, _rows, _verdict_count

#: An exception that escapes the writer's thread fails the test (the library never prints, even there).
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

#: Object ids of both kinds (SHA-1 and SHA-256 repositories).
OIDS = [f"{n:040x}" for n in range(1, 40)] + [f"{n:064x}" for n in range(1, 40)]
#: Verdicts and names whose text a JSON round trip could change: quotes, escapes, control and non-ASCII
#: characters, JSON and SQL syntax.
TEXTS = [
    "pass",
    'fail: stages/production.yaml: "m0" \\ version 2 is archived',
    "fail: line\nbreak\ttab\r\x00\x01\x1f and \u2028",
    "fail: café 模型 😀 \U0010ffff",
    "fail: a lone surrogate \ud800 from undecodable bytes",
    "fail: a backslash and u0000: \\u0000",
    "fail: ', NULL); DROP TABLE verdicts; --",
    'fail: {"json": [1, 2]} $[0] \\u0041',
    "fail: " + "x" * 20000,
]

COUNT_ARTIFACTS = "SELECT count(*) FROM artifacts"


def _storable(verdicts: dict[str, str]) -> dict[str, str]:
    """The verdicts a cache keeps: not one whose text SQLite's JSON would not give back as it is (a NUL, a
    lone surrogate; a backslash before u0000, which reads like a NUL's escape): those are computed again."""
    return {k: v for k, v in verdicts.items() if not any(bad in v for bad in ("\x00", "\ud800", "\\u0000"))}


def _open(folder: Path) -> WalkCache:
    cache = WalkCache.open(folder, environment())
    assert cache is not None
    return cache


def _fill(cache: WalkCache) -> tuple[dict[tuple[str, str], Transition], dict[str, str], dict[str, object]]:
    """Add rows of every kind (more than one batch of them), and say what they are."""
    transitions: dict[tuple[str, str], Transition] = {}
    verdicts: dict[str, str] = {}
    artifacts: dict[str, object] = {}
    for i, oid in enumerate(OIDS):
        other = OIDS[-1 - i]
        delta = (
            ("m0", None, 1),
            (f"model-{i}", i + 1, None),
            ("z" * 60, 2**62 + i, 10**18),  # integers as large as a stage file's entries get
        )
        transitions[(oid, other)] = Transition(delta, None if i % 3 == 0 else i * 1000)
        verdicts[oid] = TEXTS[i % len(TEXTS)]
        artifacts[oid] = None if i % 4 == 0 else (f"sha256:{oid[:40]:0<64}", i)
    rounds = _PENDING_ROWS // len(OIDS) + 2  # the same rows again: more than one batch, the last one wins
    for _round in range(rounds):
        for (old, new), value in transitions.items():
            cache.add_transition(old, new, value)
        for commit, verdict in verdicts.items():
            cache.add_verdict(commit, verdict)
        for blob, artifact in artifacts.items():
            cache.add_artifact(blob, artifact)  # type: ignore[arg-type]
    return transitions, verdicts, artifacts


def test_rows_written_by_the_thread_read_back_as_they_were_added(tmp_path: Path) -> None:
    folder = tmp_path / "gitreg" / "cache"
    cache = _open(folder)
    transitions, verdicts, artifacts = _fill(cache)
    cache.add_verdict("not an object id", "pass")  # keys that are not object ids are not written
    cache.add_verdict(OIDS[0].upper(), "pass")
    cache.add_artifact("0" * 41, None)
    cache.close()
    cache = _open(folder)
    assert cache.transitions(transitions) == transitions
    assert cache.verdicts(verdicts) == _storable(verdicts)
    assert cache.artifacts(artifacts) == artifacts
    cache.close()
    db = sqlite3.connect(folder / FILE_NAME)
    counts = [db.execute(sql).fetchone()[0] for sql in ("SELECT count(*) FROM verdicts", COUNT_ARTIFACTS)]
    db.close()
    assert counts == [len(_storable(verdicts)), len(artifacts)]


def test_close_waits_for_the_rows_being_written(tmp_path: Path) -> None:
    """Another gitreg holds the file's write lock for a while: the writer waits for it (SQLite's timeout is
    longer), and ``close`` returns only once the rows are in."""
    folder = tmp_path / "gitreg" / "cache"
    cache = _open(folder)
    _transitions, verdicts, _artifacts = _fill(cache)
    other = sqlite3.connect(folder / FILE_NAME, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write lock
    release = threading.Timer(0.5, other.rollback)
    release.start()
    try:
        cache.close()
        reader = sqlite3.connect(folder / FILE_NAME)  # (a reader is not held back by the write lock)
        written = reader.execute("SELECT count(*) FROM verdicts").fetchone()[0]
        reader.close()
    finally:
        release.join()
        other.close()
    assert written == len(_storable(verdicts))


def test_a_cache_locked_mid_walk_gives_the_same_audit(
    crafted: Path,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    repo = GitRepo.open(crafted)
    cold = _rows(audit(repo, "main", cache=False))
    entries = audit_entries(repo, "main", batch=1)
    first = next(entries)
    path = repo.cache_folder() / FILE_NAME
    other = sqlite3.connect(path)
    other.execute("BEGIN IMMEDIATE")  # another gitreg writing, for longer than SQLite waits (2 s)
    try:
        rest = list(entries)  # the writer gives up on its batch; the walk does not wait for it to
    finally:
        other.rollback()
        other.close()
    assert _rows([first, *rest]) == cold
    assert capfd.readouterr() == ("", "")  # the library never prints, not even from its thread
    assert _verdict_count(repo) == 0  # nothing was written
    _check(crafted)  # a later walk fills it
    assert _verdict_count(repo) == len({c for c, _v in _reference(repo)})


def test_a_cache_replaced_by_a_link_mid_walk_is_not_written_through(crafted: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    cold = _rows(audit(repo, "main", cache=False))
    entries = audit_entries(repo, "main", batch=1)
    first = next(entries)
    path = repo.cache_folder() / FILE_NAME
    elsewhere = _open(tmp_path / "elsewhere")  # a cache just like it, elsewhere
    elsewhere.close()
    outside = tmp_path / "elsewhere" / FILE_NAME
    before = outside.read_bytes()
    path.unlink()  # (the walk's own connection keeps the file it opened)
    path.symlink_to(outside)
    rest = list(entries)
    assert _rows([first, *rest]) == cold
    assert outside.read_bytes() == before
    assert path.is_symlink()  # left for the next walk, which replaces it
    _check(crafted)
    assert not path.is_symlink() and outside.read_bytes() == before


#: A walk left open: its generator is closed (and the cache with it) as the interpreter exits, when a new
#: thread would never run.
LEFT_OPEN = """
import sys
from pathlib import Path
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import audit_entries
entries = audit_entries(GitRepo.open(Path(sys.argv[1])), "main", batch=int(sys.argv[2]))
print(next(entries).verdict)
"""


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_walk_left_open_at_exit_neither_hangs_nor_loses_its_rows(crafted: Path, batch: int) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    done = subprocess.run(
        [sys.executable, "-c", LEFT_OPEN, str(crafted), str(batch)],
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert _verdict_count(repo) > 0  # written by the exiting interpreter itself
    _check(crafted)


def test_where_sqlite_reads_no_json_the_rows_are_written_on_the_walks_thread(tmp_path: Path) -> None:
    """A cache made without its file's path has no writer (as where SQLite lacks JSON): the same rows."""
    folder = tmp_path / "gitreg" / "cache"
    _open(folder).close()  # the file, its tables
    connection = _connect(folder / FILE_NAME, environment())
    assert connection is not None
    cache = WalkCache(connection)
    transitions, verdicts, artifacts = _fill(cache)
    cache.add_verdict("not an object id", "pass")
    cache.close()
    cache = _open(folder)
    assert cache.transitions(transitions) == transitions
    assert cache.verdicts(verdicts) == _storable(verdicts)  # the rows the writer leaves out too
    assert cache.artifacts(artifacts) == artifacts
    cache.close()
