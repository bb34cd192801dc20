"""``gitreg.console``: the console script ends a command that only reads without the interpreter's teardown,
and nothing a user sees changes: the whole output (larger than any buffer), the exit code and the error line
of a failing read, a closed pipe ended quietly. Anything that may need the teardown (an ``atexit`` callback,
another thread, a command that writes) exits as ``gitreg.entry.main`` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.console import reads
from testing.synthetic import make_registry, model_names, registry_files

#: ``gitreg.entry.main`` with the interpreter's normal exit: the reference.
ENTRY = "import sys; from gitreg.entry import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"


def _script() -> Path:
    return Path(sys.executable).with_name("gitreg")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("console")
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(model_names(1600, width=4), 1, lean=True))
    return root


def _both(
    registry: Path, *args: str
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    quick = subprocess.run([_script(), "-C", registry, *args], capture_output=True, timeout=120, check=False)
    normal = subprocess.run(
        [sys.executable, "-c", ENTRY, "-C", registry, *args], capture_output=True, timeout=120, check=False
    )
    return quick, normal


@pytest.mark.parametrize(
    "args", [["list", "--json"], ["list"], ["show", "model-0007@1", "--json"], ["--version"]]
)
def test_a_read_prints_all_of_its_output(registry: Path, args: list[str]) -> None:
    quick, normal = _both(registry, *args)
    assert (quick.returncode, quick.stdout, quick.stderr) == (normal.returncode, normal.stdout, normal.stderr)
    assert quick.returncode == 0
    if args == ["list", "--json"]:
        assert len(quick.stdout) > 1 << 17  # more than any pipe or stream buffer holds


@pytest.mark.parametrize("args", [["show", "no-such-model@1"], ["list", "--stage", "no/such"], ["history"]])
def test_a_failing_read_says_the_same_and_exits_the_same(registry: Path, args: list[str]) -> None:
    quick, normal = _both(registry, *args)
    assert (quick.returncode, quick.stdout, quick.stderr) == (normal.returncode, normal.stdout, normal.stderr)
    assert quick.returncode != 0 and quick.stderr


def test_a_closed_pipe_ends_quietly(registry: Path) -> None:
    shell = f"'{_script()}' -C '{registry}' list --json | head -c 100 > /dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr == ""
    assert done.stdout.strip() in ("0", "1")


def test_only_reads_skip_the_teardown() -> None:
    assert reads(["list"]) and reads(["-C", "somewhere", "show", "m@1"]) and reads(["--version"])
    assert not reads(["pull", "m@1"]) and not reads(["-C", "x", "register", "m", "f"]) and not reads([])
    assert not reads(["controller", "--once"]) and not reads(["-C", "list"])


#: What ``nothing_left`` says in a fresh interpreter, with another thread, once it is done, and with an atexit
#: callback (registered last: CPython counts a callback unregistered since).
PROBE = """
import atexit, threading
from gitreg.console import nothing_left
said = [nothing_left()]
stop = threading.Event()
thread = threading.Thread(target=stop.wait, args=(60,))
thread.start()
said.append(nothing_left())
stop.set()
thread.join()
said.append(nothing_left())
atexit.register(lambda: None)
said.append(nothing_left())
print(said)
"""


def test_anything_left_for_the_teardown_keeps_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[True, False, True, False]"
