"""A walk's ``cat-file`` (``gitreg.gitahead``) is killed when the walk ends and reaped without waiting for it
to finish dying: at once if it is gone, else when the process next starts a child. Many walks in one
long-lived process (a controller, a catalog build) leave at most the last one's git to reap, never a
growing number of zombies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testing.synthetic import commit_all, make_registry, registry_files, stage_manifest

#: Ten histories in one process; after each, how many git children it has (running, or exited and not reaped).
WALKS = """
import os, sys
from pathlib import Path
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import stage_history

def git_children():
    found = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                _name, _, rest = Path(f"/proc/{entry}/stat").read_text().partition(" (")
            except OSError:
                continue
            comm, _, fields = rest.rpartition(") ")
            if comm == "git" and int(fields.split()[1]) == os.getpid():
                found += 1
    return found

repo = GitRepo.open(Path(sys.argv[1]))
counts = []
for _ in range(10):
    assert [c.to_version for c in stage_history(repo, "main", "m1", cache=False)] == [1, 2]
    counts.append(git_children())
print(max(counts))
"""


def test_many_walks_leave_no_growing_number_of_git_children(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(["m1"], 2))
    for number in (1, 2):
        (root / "stages" / "staging.yaml").write_text(stage_manifest({"m1": number}))
        commit_all(root, f"m1 {number}")
    done = subprocess.run(
        [sys.executable, "-c", WALKS, str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) <= 1
