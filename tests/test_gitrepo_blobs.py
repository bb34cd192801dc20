"""``GitRepo.read_blobs``: many blobs through one ``cat-file --batch`` process kept open, a chunk of
requests at a time; more blobs than a chunk, blobs larger than a pipe's buffer, a missing object (left out)
and ids repeated all come back whole. Run in a child process with a timeout, so a pipe that blocks fails
the test instead of hanging it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testing import git

CHILD = """
import sys
from pathlib import Path
from gitreg.gitrepo import GitRepo
repo = GitRepo.open(Path(sys.argv[1]))
shas = sys.argv[2].split(",")
for _ in range(2):  # the same process serves a second call
    blobs = repo.read_blobs(shas)
    print(",".join(f"{sha}={len(blobs[sha])}" if sha in blobs else f"{sha}=-" for sha in shas))
repo.close()
"""


def test_many_and_large_blobs_come_back_whole(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    sizes = {}
    for index in range(600):  # more than one chunk of requests
        size = 300_000 if index % 150 == 0 else index  # some larger than a pipe's buffer
        path = tmp_path / f"f{index}"
        path.write_bytes(bytes([index % 256]) * size)
        sizes[git(tmp_path, "hash-object", "-w", str(path)).strip()] = size
    missing = "0123456789" * 4
    shas = [*sizes, missing, *list(sizes)[:3]]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), ",".join(shas)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    want = ",".join(f"{sha}={sizes[sha]}" if sha in sizes else f"{sha}=-" for sha in shas)
    assert result.stdout.splitlines() == [want, want]
