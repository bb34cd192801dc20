"""``gitreg.stage_rewind``: ``history`` walks main newest first, and each step it finds is the one the
oldest-first tracker finds and reading both blobs whole gives: on stage files of 1,000 entries that leave
plain lines and come back, on random histories (files deleted and added again, comments, quoting, duplicate
keys, no newline at the end, merges, two files in one commit), with the walk cache empty, filled by either
walk, or filled only for part of the history."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from gitreg.gitrepo import GitRepo
from gitreg.layout import STAGES_DIR
from gitreg.ops.history import audit, open_cache, stage_history
from gitreg.stage_history import StageReader, StageStep, StageTracker
from gitreg.stage_rewind import StageRewinder
from gitreg.walk_cache import WalkCache
from ops.test_audit_walk import CountingRepo
from ops.test_stage_patches import WIDE, wide  # noqa: F401 - wide: a fixture
from testing import git

Step = tuple[str, str, tuple[tuple[str, int | None, int | None], ...], dict[str, int], dict[str, int]]
PATHS = [f"{STAGES_DIR}/"]


def _seen(landing_steps: list[StageStep]) -> list[Step]:
    """Each step as it stands when given (its mappings are views the walk moves on)."""
    return [
        (s.commit.commit, s.stage, tuple(s.changed()), dict(s.before), dict(s.after)) for s in landing_steps
    ]


def _reference(repo: GitRepo, ref: str = "main") -> list[Step]:
    reader = StageReader(repo)
    found = []
    for landing in reversed(list(repo.first_parent_log(ref, PATHS))):
        found += _seen(reader.steps(landing))
    return found


def _forward(repo: GitRepo, cache: WalkCache | None = None, ref: str = "main") -> list[Step]:
    tracker = StageTracker(repo, cache)
    found = []
    for landing in tracker.read_ahead(repo.first_parent_walk(ref, PATHS)):
        found += _seen(tracker.advance(landing))
    return found


def _rewound(repo: GitRepo, cache: WalkCache | None = None, ref: str = "main") -> list[Step]:
    rewinder = StageRewinder(repo, cache)
    landed = []
    for landing in rewinder.read_ahead(repo.first_parent_rewind(ref, PATHS)):
        landed.append(_seen(rewinder.rewind(landing)))
    return [step for steps in reversed(landed) for step in steps]


def _with_cache(repo: GitRepo, walk: type[StageTracker]) -> list[Step]:
    cache = open_cache(repo)
    assert cache is not None
    try:
        return _rewound(repo, cache) if walk is StageRewinder else _forward(repo, cache)
    finally:
        cache.close()


def test_wide_history_rewound_is_the_history_read_whole(wide: Path) -> None:  # noqa: F811 - the fixture
    repo = GitRepo.open(wide)
    want = _reference(repo)
    assert sum(len(delta) for _c, _s, delta, _b, _a in want) > 1900
    assert _rewound(repo) == want


def test_wide_history_with_the_cache_filled_by_either_walk(wide: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "registry"
    shutil.copytree(wide, root, symlinks=True)
    repo = GitRepo.open(root)
    want = _reference(repo)
    assert _with_cache(repo, StageRewinder) == want  # fills the cache, newest first
    assert _with_cache(repo, StageTracker) == want  # reads what the rewinder wrote
    assert _with_cache(repo, StageRewinder) == want  # reads it too
    model = WIDE[500]
    cold = stage_history(repo, "main", model, cache=False)
    expected = [(s, was, now) for _c, s, delta, _b, _a in want for name, was, now in delta if name == model]
    assert [(c.stage, c.from_version, c.to_version) for c in cold] == expected
    assert len(expected) == 6
    counting = CountingRepo.open(root)
    assert isinstance(counting, CountingRepo)
    assert stage_history(counting, "main", model) == cold
    assert (counting.single, counting.batches) == (0, 0)
    (reader,) = counting.readers  # history's read-ahead asked once: each stage file as it stands, no other
    assert reader.requests == 1
    assert [e.as_dict() for e in audit(counting, "main")] == [
        e.as_dict() for e in audit(repo, "main", cache=False)
    ]


def _history(root: Path, seed: int) -> None:
    """A random history of two stage files, written by ``git fast-import``: promotions in plain lines,
    lines that are not plain, duplicate keys, a missing last newline, files deleted and added back, both
    files in one commit, and merges of side branches (first-parent: the merge's own diff)."""
    rng = random.Random(seed)  # noqa: S311 - a test's reproducible choices
    names = [f"m{i:02d}" for i in range(12)]
    files: dict[str, dict[str, int] | None] = {"staging": {}, "production": None}
    stream: list[bytes] = []
    mark = 0

    def text_of(entries: dict[str, int]) -> bytes:
        lines = [f"{name}: {number}" for name, number in entries.items()]
        twist = rng.random()
        if lines and twist < 0.08:
            lines[rng.randrange(len(lines))] += "  # by hand"
        elif lines and twist < 0.14:
            name, number = rng.choice(list(entries.items()))
            lines[rng.randrange(len(lines))] = f"'{name}': {number}"
        elif lines and twist < 0.18:
            lines.append(lines[rng.randrange(len(lines))].split(":")[0] + ": 9")  # a duplicate key
        elif twist < 0.22:
            return "\n".join(lines).encode()  # no newline at the end
        return "".join(f"{line}\n" for line in lines).encode()

    def commit(ref: str, message: str, changed: list[str], parent: int | None, merge: int | None) -> int:
        nonlocal mark
        mark += 1
        stream.append(f"commit {ref}\nmark :{mark}\n".encode())
        stream.append(f"committer T <t@example.com> {1_700_000_000 + mark} +0000\n".encode())
        stream.append(f"data {len(message)}\n{message}\n".encode())
        if parent is not None:
            stream.append(f"from :{parent}\n".encode())
        if merge is not None:
            stream.append(f"merge :{merge}\n".encode())
        for stage in changed:
            entries = files[stage]
            if entries is None:
                stream.append(f"D stages/{stage}.yaml\n".encode())
            else:
                data = text_of(entries)
                stream.append(
                    f"M 100644 inline stages/{stage}.yaml\ndata {len(data)}\n".encode() + data + b"\n"
                )
        return mark

    head = commit("refs/heads/main", "start", ["staging"], None, None)
    for number in range(40):
        changed = []
        for stage in rng.sample(["staging", "production"], rng.choice([1, 1, 1, 2])):
            entries = files[stage]
            roll = rng.random()
            if entries is None:
                files[stage] = {rng.choice(names): 1}
            elif roll < 0.06:
                files[stage] = None  # deleted
            elif roll < 0.2 and entries:
                del entries[rng.choice(list(entries))]
            else:
                entries[rng.choice(names)] = rng.randrange(1, 6)
            changed.append(stage)
        if rng.random() < 0.3:  # through a side branch, merged
            side = commit("refs/heads/side", f"side {number}", changed, head, None)
            head = commit("refs/heads/main", f"merge {number}", changed, head, side)  # the side's tree
        else:
            head = commit("refs/heads/main", f"change {number}", changed, head, None)
    stream.append(b"done\n")
    git(root, "init", "--quiet", "--initial-branch=main")
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done"], cwd=root, input=b"".join(stream), check=True, timeout=120
    )


@pytest.mark.parametrize("seed", range(6))
def test_random_histories_rewound_as_walked_forward(tmp_path: Path, seed: int) -> None:
    _history(tmp_path, seed)
    repo = GitRepo.open(tmp_path)
    want = _reference(repo)
    assert len(want) > 30
    assert _forward(repo) == want
    assert _rewound(repo) == want
    older = "main~15"  # the cache filled for part of the history only, by the rewinder
    cache = open_cache(repo)
    assert cache is not None
    assert _rewound(repo, cache, older) == _reference(repo, older)
    cache.close()
    assert _with_cache(repo, StageRewinder) == want
    assert _with_cache(repo, StageTracker) == want
    assert _with_cache(repo, StageRewinder) == want


def test_a_rewinder_is_not_advanced_over(tmp_path: Path) -> None:
    _history(tmp_path, 0)
    repo = GitRepo.open(tmp_path)
    landing = next(repo.first_parent_rewind("main", PATHS))
    with pytest.raises(TypeError, match="rewind"):
        StageRewinder(repo).advance(landing)


def _transitions(root: Path) -> dict[tuple[str, str], tuple[str, int | None]]:
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(root / ".git" / "gitreg" / "cache" / "walk.sqlite") as db:
        return {
            (old, new): (delta, size) for old, new, delta, size in db.execute("SELECT * FROM transitions")
        }


@pytest.mark.parametrize("seed", range(6))
def test_the_rewinder_caches_what_the_forward_walk_caches(tmp_path: Path, seed: int) -> None:
    _history(tmp_path, seed)
    repo = GitRepo.open(tmp_path)
    _with_cache(repo, StageTracker)
    forward = _transitions(tmp_path)
    shutil.rmtree(tmp_path / ".git" / "gitreg" / "cache")
    older = "main~15"  # part of the history first: the rest is rewound over cached changes
    cache = open_cache(repo)
    assert cache is not None
    _rewound(repo, cache, older)
    cache.close()
    _with_cache(repo, StageRewinder)
    back = _transitions(tmp_path)
    assert len(back) > 20
    assert {pair: delta for pair, (delta, _size) in back.items()} == {pair: forward[pair][0] for pair in back}
    listing = "".join(f"{new}\n" for _old, new in back).encode()
    sizes = subprocess.run(
        ["git", "cat-file", "--batch-check=%(objectname) %(objectsize)"],
        cwd=tmp_path,
        input=listing,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split()
    size_of = dict(zip(map(bytes.decode, sizes[::2]), map(int, sizes[1::2]), strict=True))
    for (_old, new), (_delta, size) in back.items():  # an upper bound of the new file's size, and a close one
        assert size is not None and size_of[new] <= size <= size_of[new] + 2


def test_a_cached_change_that_does_not_end_where_the_file_stands_is_not_trusted(tmp_path: Path) -> None:
    import sqlite3  # noqa: PLC0415

    _history(tmp_path, 2)
    repo = GitRepo.open(tmp_path)
    want = _reference(repo)
    _with_cache(repo, StageTracker)
    with sqlite3.connect(tmp_path / ".git" / "gitreg" / "cache" / "walk.sqlite") as db:
        db.execute("UPDATE transitions SET delta = '[[\"m00\", 7, 8]]'")
    db.close()
    assert _with_cache(repo, StageRewinder) == want
