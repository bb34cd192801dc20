"""``gitreg.stage_patches``: history and audit diff the stage files from their blobs (git's raw log gives the
ids), and what they make of a change is what reading both blobs whole makes of it: on stage files of 1,000
entries, on files that leave plain ``model: N`` lines (read whole then), with or without the walk cache.
The verdicts stay those of a full validation of each change (``_reference``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gitreg.gitrepo import GitRepo
from gitreg.layout import STAGES_DIR, stage_path, version_path
from gitreg.ops.history import audit, stage_history
from gitreg.stage_history import StageReader, StageTracker, simple_entries
from gitreg.stage_patches import _common_prefix, _common_suffix, text_patch
from ops.test_audit_verdicts import _promote, _reference, _write
from ops.test_audit_walk import CountingRepo
from testing.synthetic import commit_all, make_registry, model_names, registry_files, stage_manifest

WIDE = model_names(1000, width=3)


def _reference_patch(old: bytes, new: bytes) -> tuple[list[str], list[str]]:
    """The hunk between the longest common prefix and suffix, without text_patch's one-line shortcut."""
    start = old.rfind(b"\n", 0, _common_prefix(old, new)) + 1
    tail = _common_suffix(old, new, min(len(old), len(new)) - start)
    cut = old.find(b"\n", len(old) - tail)
    end_old = len(old) if cut == -1 or tail == 0 else cut + 1
    end_new = len(new) - (len(old) - end_old)
    removed, added = old[start:end_old].decode(), new[start:end_new].decode()
    lines = [
        removed.removesuffix("\n").split("\n") if removed else [],
        added.removesuffix("\n").split("\n") if added else [],
    ]
    return lines[0], lines[1]


def _check_patch(old: bytes, new: bytes) -> None:
    """``text_patch`` is one hunk: the lines before it and after it are the same in both texts; and it is
    the hunk the general search finds (its shortcut for one changed line changes nothing)."""
    patch = text_patch(old, new)
    assert patch is not None
    assert patch == _reference_patch(old, new)
    removed, added = patch
    old_lines, new_lines = old.decode().splitlines(), new.decode().splitlines()
    for start in range(min(len(old_lines), len(new_lines)) + 1):
        if (
            old_lines[start : start + len(removed)] == removed
            and new_lines[start : start + len(added)] == added
            and old_lines[:start] == new_lines[:start]
            and old_lines[start + len(removed) :] == new_lines[start + len(added) :]
        ):
            return
    raise AssertionError(f"not one hunk between a common head and tail: {patch}")


@pytest.mark.parametrize("seed", range(40))
def test_text_patch_is_one_hunk_between_common_lines(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible edits, not a secret
    entries = {name: rng.randint(1, 20) for name in rng.sample(WIDE, rng.choice([1, 3, 50, 1000]))}
    old = stage_manifest(entries)
    changed = dict(entries)
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(WIDE)
        if name in changed and rng.random() < 0.3:
            del changed[name]
        else:
            changed[name] = rng.randint(1, 20)
    new = stage_manifest(changed)
    if rng.random() < 0.3:
        new = new.rstrip("\n")  # no newline at the end
    if rng.random() < 0.2:
        new = new.replace(": ", ":  ", 1)  # a line that is no longer plain
    _check_patch(old.encode(), new.encode())


@pytest.mark.parametrize("seed", range(40))
def test_text_patch_of_one_line_changed(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible edits, not a secret
    lines = [f"{name}: {rng.randint(1, 20)}\n" for name in rng.sample(WIDE, rng.choice([1, 2, 3, 50]))]
    old = "".join(lines)
    at = rng.randrange(len(lines))
    lines[at] = rng.choice([f"{lines[at][:-3]}{rng.randint(1, 99)}\n", lines[at], "x\n", "\n", lines[at - 1]])
    new = "".join(lines)
    if rng.random() < 0.2:
        new, old = new.rstrip("\n"), old.rstrip("\n")  # no newline at the end
    _check_patch(old.encode(), new.encode())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "a: 1\n"),
        ("a: 1\n", ""),
        ("a: 1", "a: 1\n"),
        ("a: 1\n", "a: 1\n\n"),
        ("a: 1\nb: 2\n", "a: 1\nb: 22\n"),
        ("a: 11\nb: 2\n", "a: 1\nb: 2\n"),
        ("a: 1\na: 1\n", "a: 1\n"),  # a repeated line: head and tail must not overlap
        ("a: 1\n", "a: 1\na: 1\n"),
        ("x: 1\ny: 1\nz: 1\n", "x: 1\nz: 1\n"),
        ("a: 1\nb: 2\n", "a: 2\nc: 2\n"),  # two lines changed, alike but for their first characters
        ("a: 1\nb: 2\nc: 3\n", "a: 2\nb: 3\nc: 3\n"),
        ("a: 1\n\nb: 2\n", "a: 2\nb: 2\n"),
        ("a: 1\nb: 2", "a: 3\nb: 2"),
    ],
)
def test_text_patch_edges(old: str, new: str) -> None:
    _check_patch(old.encode(), new.encode())


def test_text_patch_of_text_that_is_not_utf8() -> None:
    assert text_patch(b"a: 1\n", b"a: \xff\n") is None


def _promote_wide(root: Path, stage: str, entries: dict[str, int], message: str, merge: bool = True) -> None:
    _promote(root, stage, entries, message, merge=merge)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry of 1,000 models whose stage files list all of them, with failing changes (a direct push
    that skips a stage, an archived and a deleted version) and stage files that leave plain lines."""
    tmp_path = tmp_path_factory.mktemp("wide")
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(WIDE, 3, lean=True))
    staging = dict.fromkeys(WIDE, 1)
    production: dict[str, int] = {}
    _promote_wide(root, "staging", staging, "every model to staging")  # pass: 1,000 entries at once
    production.update(dict.fromkeys(WIDE[:900], 1))
    _promote_wide(root, "production", production, "900 to production")  # pass
    staging[WIDE[500]] = 2
    _promote_wide(root, "staging", staging, "one to staging")  # pass
    production[WIDE[500]] = 2
    _promote_wide(root, "production", production, "one to production")  # pass
    production[WIDE[950]] = 1
    _promote_wide(root, "production", production, "a direct push", merge=False)  # pass: staging held 1
    production[WIDE[10]] = 3
    _promote_wide(root, "production", production, "skips staging", merge=False)  # fail: stage-transition
    archived = version_path(WIDE[20], 2)
    _write(root, archived, (root / archived).read_text().replace("status: active", "status: archived"))
    commit_all(root, "archive one")
    staging[WIDE[20]] = 2
    _promote_wide(root, "staging", staging, "the archived one")  # fail: stage-archived
    _write(root, version_path(WIDE[30], 3), None)
    commit_all(root, "delete one")
    staging[WIDE[30]] = 3
    _promote_wide(root, "staging", staging, "the deleted one")  # fail: stage-entry
    staging[WIDE[20]] = 1
    staging[WIDE[30]] = 1
    text = stage_manifest(staging).replace(f"{WIDE[700]}: 1\n", f"{WIDE[700]}:   1  # by hand\n")
    _write(root, stage_path("staging"), text)
    commit_all(root, "a line that is not plain")  # read whole: the fallback
    staging[WIDE[700]] = 2
    _promote_wide(root, "staging", staging, "back to plain lines")
    del staging[WIDE[999]]
    _write(root, stage_path("staging"), stage_manifest(staging).rstrip("\n"))
    commit_all(root, "one leaves, no newline at the end")
    staging[WIDE[999]] = 3
    _promote_wide(root, "staging", staging, "it comes back")
    _write(root, stage_path("staging"), stage_manifest(staging) + f"{WIDE[5]}: 2\n")
    commit_all(root, "a duplicate key")  # fail: yaml
    staging[WIDE[5]] = 2
    _promote_wide(root, "staging", staging, "fixed")
    return root


def _reference_steps(repo: GitRepo) -> list[tuple[str, str, tuple[tuple[str, int | None, int | None], ...]]]:
    """(commit, stage, changed entries) of each stage step, both blobs parsed whole."""
    reader = StageReader(repo)
    found = []
    for landing in reversed(list(repo.first_parent_log("main", [f"{STAGES_DIR}/"]))):
        found += [(landing.commit, s.stage, tuple(s.changed())) for s in reader.steps(landing)]
    return found


def _tracked_steps(
    repo: GitRepo, plain: dict[str, bool] | None = None
) -> list[tuple[str, str, tuple[tuple[str, int | None, int | None], ...]]]:
    """The tracker's steps; ``plain``: {subject: whether staging is followed by diffs after it}."""
    tracker = StageTracker(repo)
    found = []
    for landing in tracker.read_ahead(repo.first_parent_walk("main", [f"{STAGES_DIR}/"])):
        found += [(landing.commit, s.stage, tuple(s.changed())) for s in tracker.advance(landing)]
        if plain is not None:
            plain[landing.subject.split("from x/")[-1]] = tracker.state("staging").plain_size is not None
    return found


def test_wide_stage_files_are_followed_as_parsing_them_whole(wide: Path) -> None:
    repo = GitRepo.open(wide)
    want = _reference_steps(repo)
    plain: dict[str, bool] = {}
    assert _tracked_steps(repo, plain) == want
    assert not plain["a line that is not plain"]  # read whole and parsed (the fallback)...
    assert plain["back to plain lines"]  # ...until the file is plain lines again
    assert plain["one leaves, no newline at the end"]
    assert not plain["a duplicate key"]
    assert sum(len(delta) for _c, _s, delta in want) > 1900
    head = (wide / stage_path("staging")).read_bytes()
    assert simple_entries(head) is not None  # the last file is plain again: followed by diffs since


def test_wide_verdicts_equal_full_validation_with_and_without_the_cache(wide: Path) -> None:
    repo = GitRepo.open(wide)
    want = _reference(repo)
    verdicts = " ".join(v for _c, v in want)
    for rule in ("stage-transition", "stage-archived", "stage-entry", "yaml"):
        assert f": {rule}: " in verdicts, rule
    cold = audit(repo, "main", cache=False)
    assert [(e.change.commit, e.verdict) for e in cold] == want
    filling = audit(repo, "main")  # fills the cache
    warm = audit(repo, "main")  # reads it
    assert [e.as_dict() for e in filling] == [e.as_dict() for e in cold]
    assert [e.as_dict() for e in warm] == [e.as_dict() for e in cold]
    model = WIDE[500]
    assert stage_history(repo, "main", model) == stage_history(repo, "main", model, cache=False)
    counting = CountingRepo.open(wide)
    assert isinstance(counting, CountingRepo)
    assert [e.as_dict() for e in audit(counting, "main")] == [e.as_dict() for e in cold]
    assert (counting.single, counting.batches) == (0, 0)  # the cache answered: not a blob read
    assert stage_history(counting, "main", model) == stage_history(repo, "main", model, cache=False)
    assert (counting.single, counting.batches) == (0, 0)
    # history walks newest first: it reads each stage file as it stands (its newest blob), and no other
    assert [reader.requests for reader in counting.readers[-1:]] == [1]
