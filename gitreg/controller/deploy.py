"""What a reconcile does for one model (``Controller`` inherits it): deploy the version the stage wants
(download, verify and rename, or switch back to an intact kept folder), run the on-deploy hook, back off
after a failure, trim old versions once the switch is reported, and keep or remove a model the stage no
longer holds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.controller.config import ControllerConfig, ModelChange
from gitreg.controller.events import Field, Level, now
from gitreg.controller.metrics import Metrics
from gitreg.controller.on_deploy import run_hook
from gitreg.controller.status import ModelStatus, Status, parse_time
from gitreg.controller.target import Target
from gitreg.errors import GitregError
from gitreg.registry import Registry

if TYPE_CHECKING:
    from gitreg.manifest import Artifact


@dataclass
class Run:
    start: float = field(default_factory=time.monotonic)
    changes: list[ModelChange] = field(default_factory=list)
    switched: list[str] = field(default_factory=list)  # models whose old versions may be trimmed


class ModelDeploys:
    """``Controller``'s work on one model at a time."""

    config: ControllerConfig
    target: Target
    status: Status
    metrics: Metrics

    if TYPE_CHECKING:  # what the mixin uses of Controller, which defines them

        def _publish(self, write: bool) -> None: ...

        def _event(self, name: str, level: Level = "info", **fields: Field) -> None: ...

    # --- one model --------------------------------------------------------------------------------------

    def _deploy(
        self, run: Run, model: str, version: int, registry: Registry, commit: str, force: bool
    ) -> ModelChange | None:
        state = self.status.models.setdefault(model, ModelStatus())
        state.wanted = version
        live = self.target.live(model)
        if live != state.live:  # the folder changed behind our back (or status.json was lost)
            state.live, state.digest, state.path, state.changed_at = live, None, None, now()
        if live == version:
            if state.digest is None:
                art = registry.version(model, version).artifact
                state.digest, state.path = art.digest, str(self.target.artifact_path(model, version, art))
            if state.state == "progressing" and self.config.on_deploy and state.digest and state.path:
                # a controller was stopped between the switch and the end of its hook: run the hook again
                self._event("hook-rerun", model=model, version=version)
                error = self._hook(model, version, Path(state.path), state.digest, commit, None, (None, None))
                if error is None:
                    _succeeded(state)
                return ModelChange(model, live, live, version, "hook", error)
            if not (state.state == "failed" and state.failed_version == version):  # else: the hook failed
                _succeeded(state)
            return None
        if state.state == "failed" and state.failed_version == version and not force and _backing_off(state):
            return None
        try:
            art = registry.version(model, version).artifact
        except GitregError as exc:  # pragma: no cover - the validator checked that the version exists
            self._failed(model, version, str(exc))
            return ModelChange(model, live, live, version, "deploy", str(exc))
        state.state, state.error = "progressing", None
        self._event("deploy", model=model, version=version, live=live, digest=art.digest)
        self._publish(write=True)
        action = "switch" if self._intact(model, version, art) else "deploy"
        try:
            if action == "deploy":
                self.target.install(model, version, registry.store, art)
                self.metrics.downloaded.inc(art.size)
                self._event("downloaded", model=model, version=version, bytes=art.size)
            self.target.switch(model, version)
        except GitregError as exc:
            self._failed(model, version, str(exc))
            return ModelChange(model, live, live, version, action, str(exc))
        before = (state.digest, state.path)
        path = self.target.artifact_path(model, version, art)
        state.live, state.digest, state.path, state.changed_at = version, art.digest, str(path), now()
        self._event("switched", model=model, version=version, previous=live, path=str(path))
        run.switched.append(model)  # its old versions are trimmed once the reconcile is reported
        self._publish(write=bool(self.config.on_deploy))  # a restart must know the hook may not have run
        error = self._hook(model, version, path, art.digest, commit, live, before)
        if error is None:
            _succeeded(state)
        return ModelChange(model, live, state.live, version, action, error)

    def _intact(self, model: str, version: int, art: Artifact) -> bool:
        """Whether a kept folder of ``version`` is there and still holds exactly its artifact (else it is
        downloaded again: altered bytes are never switched back to)."""
        if not self.target.occupied(model, version):
            return False
        problem = self.target.mismatch(model, version, art)
        if problem is not None:
            self._event("kept-version-mismatch", "warning", model=model, version=version, error=problem)
        return problem is None

    def _hook(
        self,
        model: str,
        version: int,
        path: Path,
        digest: str,
        commit: str,
        previous: int | None,
        before: tuple[str | None, str | None],
    ) -> str | None:
        if not self.config.on_deploy:
            return None
        env = {
            "GITREG_MODEL": model,
            "GITREG_VERSION": str(version),
            "GITREG_PATH": str(path),
            "GITREG_DIGEST": digest,
            "GITREG_COMMIT": commit,
            "GITREG_TARGET": str(self.target.root),
        }
        failure = run_hook(self.config.on_deploy, env, self.config.hook_timeout)
        if failure is None:
            self._event("hook", model=model, version=version)
            return None
        error = f"on-deploy hook {failure}"
        state = self.status.models[model]
        if self.config.rollback_on_hook_failure and previous is not None:
            try:
                self.target.switch(model, previous)
            except GitregError as exc:
                error += f"; rolling back to {previous} failed too: {exc}"
            else:
                state.live, (state.digest, state.path), state.changed_at = previous, before, now()
                error += f"; rolled back to {previous}"
        self._failed(model, version, error)
        return error

    def _failed(self, model: str, version: int, error: str) -> None:
        state = self.status.models[model]
        state.state, state.error, state.failed_version = "failed", error, version
        state.failures += 1
        delay = min(self.config.retry_base * 2 ** (state.failures - 1), self.config.retry_max)
        state.retry_at = (datetime.now(UTC) + timedelta(seconds=delay)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._event("deploy-failed", "error", model=model, version=version, live=state.live, error=error)

    def _trim(self, model: str) -> None:
        try:
            removed = self.target.trim(model, self.config.keep)
        except GitregError as exc:
            self._event("trim-failed", "warning", model=model, error=str(exc))
            return
        if removed:
            self._event("trimmed", model=model, versions=[str(v) for v in removed])

    def _leave(self, model: str, prune: bool) -> list[ModelChange]:
        """A model on disk that the stage no longer holds: kept (retained), or removed with --prune."""
        state = self.status.models.setdefault(model, ModelStatus())
        live = self.target.live(model)
        if live is None and not self.target.versions(model):
            self.status.models.pop(model)  # nothing deployed: forget it (its empty folder may stay)
            return []
        if not prune:
            if state.state != "retained":
                self._event("retained", model=model, live=live)
            state.wanted, state.live, state.state, state.error = None, live, "retained", None
            return []
        try:
            self.target.remove_model(model)
        except GitregError as exc:
            state.wanted, state.state, state.error = None, "failed", str(exc)
            return [ModelChange(model, live, live, None, "prune", str(exc))]
        self.status.models.pop(model)
        self._event("pruned", model=model, live=live)
        return [ModelChange(model, live, None, None, "prune")]


def _succeeded(state: ModelStatus) -> None:
    state.state, state.error, state.failed_version, state.failures, state.retry_at = (
        "synced",
        None,
        None,
        0,
        None,
    )


def _backing_off(state: ModelStatus) -> bool:
    return state.retry_at is not None and parse_time(state.retry_at) > datetime.now(UTC)
