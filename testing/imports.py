"""What a gitreg process imports: the command line run through the console script's entry point
(``gitreg.entry``) in a fresh interpreter, and the names of the modules it ended with. The start-up tests
assert on these (a test of what is imported, not of time)."""

from __future__ import annotations

import json
import os
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


#: The click path, forced: the group's own main, as `gitreg` ran before gitreg.entry.
CLICK_SCRIPT = "import sys; from gitreg.cli import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
#: The entry point, writing at exit which modules it loaded.
ENTRY_SCRIPT = """
import atexit, json, sys
atexit.register(lambda: open(OUT, "w").write(json.dumps(sorted(sys.modules))))
from gitreg.entry import main
sys.argv = ["gitreg", *sys.argv[1:]]
main()
"""

#: (exit code, stdout, stderr) of a process.
Outcome = tuple[int, bytes, bytes]


def entry_and_click(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[Outcome, Outcome, set[str]]:
    """``gitreg ARGS`` from ``tmp_path`` through the entry point and through the click group run directly:
    what each did, and the modules the entry point loaded (the quick path's tests compare the two)."""
    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    results = []
    for code in (ENTRY_SCRIPT.replace("OUT", repr(str(out))), CLICK_SCRIPT):
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
        )
        results.append((done.returncode, done.stdout, done.stderr))
    return results[0], results[1], set(json.loads(out.read_text()))
