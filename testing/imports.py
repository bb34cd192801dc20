"""What a gitreg process imports: the command line run through the console script's entry point
(``gitreg.entry``) in a fresh interpreter, and the names of the modules it ended with. The start-up tests
assert on these (a test of what is imported, not of time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Runs the command line in this process, then writes the names of the modules it loaded to OUT.
_PROBE = """
import json, sys
from gitreg.entry import main
out, sys.argv = sys.argv[1], ["gitreg", *sys.argv[2:]]
try:
    main()
finally:
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
"""


def modules_after(tmp_path: Path, *args: str | Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``gitreg ARGS`` in a fresh interpreter: the finished process and every module it had loaded."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, set(json.loads(out.read_text()))


def modules_after_code(
    tmp_path: Path, code: str, *args: str | Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``code`` run as a script (``sys.argv[1:]`` is ``args``) in a fresh interpreter: the finished process
    and every module it had loaded, even if it failed."""
    out = tmp_path / "modules.json"
    probe = f"import json, sys\nout = sys.argv.pop(1)\ntry:\n{_indented(code)}\nfinally:\n"
    probe += "    with open(out, 'w') as f:\n        json.dump(sorted(sys.modules), f)\n"
    done = subprocess.run(
        [sys.executable, "-c", probe, str(out), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, set(json.loads(out.read_text()))


def _indented(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.strip("\n").splitlines()) or "    pass\n"
