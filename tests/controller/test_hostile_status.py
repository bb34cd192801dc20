"""status.json is a file in the target that anyone with write access can edit: a model key in it that is not
a model name (a path, a NUL) must never lead the controller outside its target, nor end in a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from controller.helpers import Remote, controller_argv, live
from gitreg.controller import reconcile_once
from testing import tree_state


@pytest.mark.parametrize("key", ["../victim", "a\u0000b", "/abs", "fraud/../../victim"])
def test_a_status_file_naming_a_path_never_leads_outside_the_target(
    remote: Remote, tmp_path: Path, key: str
) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    target = tmp_path / "target"
    assert reconcile_once(remote.url, "production", target).outcome == "applied"
    victim = tmp_path / "victim"
    (victim / "1").mkdir(parents=True)
    (victim / "1" / "keep.txt").write_text("not the controller's")
    before = tree_state(victim)
    status = target / ".gitreg" / "status.json"
    data = json.loads(status.read_text())
    data["models"][key] = dict(data["models"]["fraud"])
    status.write_text(json.dumps(data))

    result = reconcile_once(remote.url, "production", target, prune=True)  # the in-process path
    assert result.outcome in ("unchanged", "applied")
    argv = [*controller_argv(remote, target), "--once", "--prune"]  # the CLI path, through the light poll
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert tree_state(victim) == before
    assert live(target, "fraud") == "1"
