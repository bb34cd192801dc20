"""A registry with a real bare remote over file:// that tests push to, and checks of a controller's target
folder. Promotions are plain commits of stage files pushed to the remote, as a merged pull request lands."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitreg.storage.artifact import TreeEntry, tree_listing, walk_tree
from testing import git, run, sha256, sha256_file, write_bytes

CODE_COMMIT = "1b2c3d4e5f60718293a4b5c6d7e8f90123456789"


def artifact_digest(version: Path) -> str:
    """The digest of what a version folder holds: its one file, or the folder as a tree artifact."""
    files = list(walk_tree(version))
    if len(files) == 1 and "/" not in files[0][0] and not files[0][0].startswith("weights"):
        return sha256_file(files[0][1])
    entries = [
        TreeEntry(rel, path.stat().st_size, sha256_file(path), bool(path.stat().st_mode & 0o111))
        for rel, path in files
    ]
    return sha256(tree_listing(entries))


@dataclass
class Remote:
    """A registry checkout (``registry``) whose ``main`` is pushed to a bare repository (``bare``)."""

    registry: Path
    bare: Path
    blobs: Path
    work: Path

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def register(self, model: str, seed: int, size: int = 1000, folder: bool = False) -> int:
        """Register a new version of ``model`` (a file, or a folder of two files) and push it."""
        source = self.work / "artifacts" / f"{model}-{seed}"
        if folder:
            write_bytes(source / "weights.bin", size, seed)
            write_bytes(source / "config" / "params.json", 64, seed + 1)
        else:
            source = write_bytes(source / "model.bin", size, seed)
        result = run(
            "register",
            model,
            source,
            "--description",
            f"{model} trained with seed {seed}",
            "--code-commit",
            CODE_COMMIT,
            cwd=self.registry,
        )
        assert result.exit_code == 0, result.stderr
        self.push()
        return int(result.stdout.strip().rpartition("@")[2])

    def stage(
        self, versions: dict[str, int], stage: str = "production", sign_with: Path | None = None
    ) -> str:
        """Set the stage file to ``versions``, commit (signed with an SSH key if given), push; the commit."""
        text = "".join(f"{m}: {v}\n" for m, v in versions.items()) or "{}\n"
        return self.commit({f"stages/{stage}.yaml": text}, f"Set {stage} to {versions}", sign_with)

    def commit(self, files: dict[str, str], message: str, sign_with: Path | None = None) -> str:
        for path, text in files.items():
            (self.registry / path).parent.mkdir(parents=True, exist_ok=True)
            (self.registry / path).write_text(text)
        git(self.registry, "add", "-A")
        signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={sign_with}"] if sign_with else []
        git(
            self.registry,
            *signing,
            "commit",
            "-q",
            "--allow-empty",
            *(["-S"] if sign_with else []),
            "-m",
            message,
        )
        self.push()
        return self.head()

    def push(self, force: bool = False) -> None:
        git(self.registry, "push", "-q", *(["--force"] if force else []), str(self.bare), "main")

    def head(self) -> str:
        return git(self.registry, "rev-parse", "HEAD").strip()

    def digest(self, model: str, version: int) -> str:
        data: dict[str, Any] = yaml.safe_load(
            (self.registry / "models" / model / "versions" / f"{version}.yaml").read_text()
        )
        digest: str = data["artifact"]["digest"]
        return digest

    def blob(self, model: str, version: int) -> Path:
        hexdigest = self.digest(model, version).removeprefix("sha256:")
        return self.blobs / "sha256" / hexdigest[:2] / hexdigest[2:]


def make_remote(registry: Path, blobs: Path, work: Path) -> Remote:
    bare = work / "remote.git"
    git(work, "init", "-q", "--bare", str(bare))
    remote = Remote(registry, bare, blobs, work)
    remote.push()
    return remote


def live(target: Path, model: str) -> str | None:
    link = target / model / "current"
    return str(link.readlink()) if link.is_symlink() else None


def versions_on_disk(target: Path, model: str) -> list[str]:
    return sorted((p.name for p in (target / model).iterdir() if p.name.isdigit()), key=int)


def status_of(target: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((target / ".gitreg" / "status.json").read_text())
    return data


def check_target(target: Path, remote: Remote) -> dict[str, str]:
    """Assert the crash-safety invariants of ``target``: every ``current`` names a version folder that is
    there, and every version folder holds exactly its version's bytes. Returns {model: live version}."""
    found: dict[str, str] = {}
    if not target.exists():
        return found
    for folder in sorted(p for p in target.iterdir() if not p.name.startswith(".")):
        link = folder / "current"
        if link.is_symlink() or link.exists():
            assert link.is_symlink(), f"{link} is not a symlink"
            name = str(link.readlink())
            assert (folder / name).is_dir(), f"{link} -> {name} is broken"
            found[folder.name] = name
        for version in (p for p in folder.iterdir() if p.name.isdigit()):
            expected = remote.digest(folder.name, int(version.name))
            assert artifact_digest(version) == expected, f"{version} is not the whole of {expected}"
    return found


def controller_argv(remote: Remote, target: Path, *args: str, stage: str = "production") -> list[str]:
    return [
        sys.executable,
        "-m",
        "gitreg",
        "controller",
        "--repo",
        remote.url,
        "--stage",
        stage,
        "--target",
        str(target),
        *args,
    ]


def run_controller(remote: Remote, target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``gitreg controller ... --once`` as a real process."""
    argv = controller_argv(remote, target, "--once", *args)
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll until ``condition()`` holds; fail with ``what`` if it does not within ``timeout`` (a generous
    deadline against hangs, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Running:
    """``gitreg controller`` as a real process (its own session, so its hooks can be killed with it), with
    its JSON log lines collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*argv, "--log-format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def event(self, name: str, **fields: object) -> dict[str, Any]:
        """Wait for an event called ``name`` with these fields; return it."""

        def find() -> dict[str, Any] | None:
            for event in list(self.events):
                if event["event"] == name and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        wait_for(lambda: find() is not None or self.process.poll() is not None, f"event {name} {fields}")
        found = find()
        assert found is not None, f"the controller exited ({self.process.returncode}): {''.join(self.lines)}"
        return found

    def kill(self) -> None:
        """SIGKILL the controller and everything it started (a hook, say)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)

    def stop(self) -> int:
        """SIGTERM, then the exit code (and SIGKILL for anything it left running)."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return code
