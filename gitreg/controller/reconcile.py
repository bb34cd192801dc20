"""One reconcile: make the target match the stage on the branch's tip, or say exactly why it does not.

ls-remote -> same commit applied and target intact? stop here (one cheap request, a few stats)
          -> fetch the commit (depth 1) unless cached -> signature (optional) -> validate everything
          -> for each model whose wanted version is not live: download + verify + rename, switch
             ``current``, run the hook; a failure stays with its model
          -> status.json (atomically), metrics, one event per step
          -> only then, old versions beyond --keep deleted: the switch is reported before anything goes"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.controller import desired
from gitreg.controller import status as statuses
from gitreg.controller.config import ControllerConfig, ReconcileResult
from gitreg.controller.deploy import ModelDeploys, Run
from gitreg.controller.events import Event, Field, Level, Log, ignore, now
from gitreg.controller.metrics import Metrics
from gitreg.controller.source import Source
from gitreg.controller.status import (
    Attempt,
    CommitMark,
    HistoryEntry,
    Outcome,
    RemoteError,
    Status,
    parse_time,
)
from gitreg.controller.target import Target
from gitreg.errors import GitregError
from gitreg.layout import DEFAULT_BRANCH
from gitreg.registry import Registry

if TYPE_CHECKING:
    pass


class Controller(ModelDeploys):
    """Reconciles one target. ``open()`` takes the target (lock, leftovers cleaned, status read back);
    ``reconcile()`` may then run any number of times; ``close()`` lets go. Also a context manager."""

    def __init__(self, config: ControllerConfig, log: Log = ignore) -> None:
        self.config = config
        self.target = Target(config.target)
        self.log = log
        self.status = Status(target=str(self.target.root))
        self.metrics = Metrics(self.published)
        self.source = Source(config.repo, config.branch, self.target.cache, config.git_timeout, self._count)
        self._published = self.status.model_copy(deep=True)
        self._lock = threading.Lock()

    def __enter__(self) -> Controller:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.target.prepare()
        self.target.lock()
        removed = self.target.clean()
        if removed:
            self._event("cleaned", "warning", removed=removed)
        self.status = statuses.read(self.target.status_file) or Status()
        self.status.target = str(self.target.root)
        self._publish(write=False)

    def close(self) -> None:
        self.target.unlock()

    def published(self) -> Status:
        """The status as last published (safe to call from another thread, e.g. the HTTP server)."""
        with self._lock:
            return self._published

    # --- one reconcile ----------------------------------------------------------------------------------

    def reconcile(self, force: bool = False, answer: str | GitregError | None = None) -> ReconcileResult:
        """Run one reconcile. ``force`` retries failed models and invalid commits at once instead of
        waiting for their back-off (as ``--once`` and ``POST /reconcile`` do). ``answer``: what an
        ``ls_remote`` of the branch just said (a commit or its error), so the remote is not asked again."""
        run = Run()
        result = self._reconcile(run, force, answer)
        self.metrics.reconciles.labels(result.outcome).inc()
        self.metrics.duration.observe(result.duration)
        return result

    def _reconcile(self, run: Run, force: bool, answer: str | GitregError | None) -> ReconcileResult:
        self.status.last_poll = now()
        try:
            commit = self.source.head(answer)
        except GitregError as exc:
            return self._unreachable(run, str(exc))
        dirty = self._reachable()
        if self.status.observed is None or self.status.observed.commit != commit:
            self.status.observed = CommitMark(commit=commit, time=now())
            self._event("observed", commit=commit)
            dirty = True
        if self._in_sync(commit) or (not force and self._waiting(commit)):
            self._publish(write=dirty)
            return ReconcileResult("unchanged", commit, duration=time.monotonic() - run.start)
        damage: str | None = None
        for attempt in (1, 2):
            if damage is not None:
                self._event("cache-rebuilt", "warning", error=damage)
            try:
                repo = self.source.rebuild() if damage else self.source.repo()
                fetched = self.source.fetch(repo, commit)
            except GitregError as exc:  # the remote's fault, or the cache's: rebuild it once to know
                if attempt == 2:
                    return self._unreachable(run, str(exc))
                damage = str(exc)
                continue
            if fetched != commit:  # the branch moved on between ls-remote and fetch: take the newer tip
                commit = fetched
                self.status.observed = CommitMark(commit=commit, time=now())
                self._event("observed", commit=commit)
            try:
                registry, wanted, errors = desired.load(
                    repo, commit, self.config, self.source, self.status.applied
                )
            except GitregError as exc:  # git cannot read what it fetched: the cache is damaged
                registry, wanted, errors = None, {}, [str(exc)]
                damage = str(exc)
                continue
            if not errors or attempt == 2 or repo.intact(commit):  # a refusal, not a misread cache
                break
            damage = f"the git cache is damaged (git fsck fails) and made {commit[:12]} look invalid"
        if errors or registry is None:
            return self._invalid(run, commit, errors)
        return self._apply(run, commit, registry, wanted, force)

    def _in_sync(self, commit: str) -> bool:
        applied = self.status.applied
        if applied is None or applied.commit != commit or self.status.spec != self.config.spec():
            return False
        return all(self.target.live(m) == s.live for m, s in self.status.models.items())

    def _waiting(self, commit: str) -> bool:
        """The tip is the commit last attempted, which was refused, or whose failed models are backing off."""
        attempted = self.status.attempted
        if attempted is None or attempted.commit != commit or self.status.spec != self.config.spec():
            return False
        if attempted.result == "invalid":
            return True
        if any(self.target.live(m) != s.live for m, s in self.status.models.items()):
            return False
        moment = datetime.now(UTC)
        return attempted.result == "partial" and all(
            s.retry_at is not None and parse_time(s.retry_at) > moment
            for s in self.status.models.values()
            if s.state == "failed" and s.live != s.wanted
        )

    # --- outcomes ---------------------------------------------------------------------------------------

    def _unreachable(self, run: Run, message: str) -> ReconcileResult:
        known = self.status.remote_error
        if known is None or known.message != message:  # report a change, not every failed poll
            self.status.remote_error = RemoteError(message=message, since=now())
            self._event("remote-unreachable", "error", error=message)
            self._finish(run, None, "unreachable", [message])
        else:
            self._publish(write=False)
        return ReconcileResult("unreachable", None, (), (message,), time.monotonic() - run.start)

    def _reachable(self) -> bool:
        if self.status.remote_error is None:
            return False
        self._event("remote-reachable", since=self.status.remote_error.since)
        self.status.remote_error = None
        return True

    def _invalid(self, run: Run, commit: str, errors: list[str]) -> ReconcileResult:
        self.status.spec = self.config.spec()
        self.status.attempted = Attempt(commit=commit, time=now(), result="invalid", errors=errors)
        self._event("invalid", "error", commit=commit, errors=errors)
        self._finish(run, commit, "invalid", errors)
        return ReconcileResult("invalid", commit, (), tuple(errors), time.monotonic() - run.start)

    def _apply(
        self, run: Run, commit: str, registry: Registry, wanted: dict[str, int], force: bool
    ) -> ReconcileResult:
        self.status.spec = self.config.spec()
        for model in sorted(wanted):
            change = self._deploy(run, model, wanted[model], registry, commit, force)
            if change is not None:
                run.changes.append(change)
        on_disk = set(self.target.models()) | {m for m, s in self.status.models.items() if s.live}
        if not wanted and self.config.prune and on_disk:
            self._event("prune-skipped", "warning", reason="the stage is empty", models=sorted(on_disk))
        for model in sorted(on_disk - set(wanted)):
            run.changes += self._leave(model, prune=self.config.prune and bool(wanted))
        for model in [m for m in self.status.models if m not in wanted and m not in on_disk]:
            del self.status.models[model]
        self._settle(registry)
        behind = [m for m, v in wanted.items() if self.status.models[m].live != v]
        outcome: Outcome = "partial" if behind else "applied"
        errors = [f"{m}: {s.error}" for m, s in sorted(self.status.models.items()) if s.error]
        self.status.attempted = Attempt(commit=commit, time=now(), result=outcome, errors=errors)
        if outcome == "applied":
            self.status.applied = CommitMark(commit=commit, time=now())
        level: Level = "info" if not errors else "warning" if outcome == "applied" else "error"
        self._finish(run, commit, outcome, errors)  # status.json says what is live, then the log does
        self._event("reconciled", level, commit=commit, result=outcome, changes=[str(c) for c in run.changes])
        for model in run.switched:  # only now: a slow delete must not hold back the report of the switch
            self._trim(model)
        return ReconcileResult(
            outcome, commit, tuple(run.changes), tuple(errors), time.monotonic() - run.start
        )

    def _settle(self, registry: Registry) -> None:
        """Report each model as the disk has it: ``live`` is what ``current`` names, with its digest and
        path (whatever happened on the way: a failure, a rollback, a hand-made switch), and the digest of
        the version wanted beside it."""
        for model, state in self.status.models.items():
            state.live = self.target.live(model)
            state.digest = state.path = state.wanted_digest = None
            for version in {state.live, state.wanted} - {None}:
                assert version is not None  # noqa: S101 - for mypy
                try:
                    art = registry.version(model, version).artifact
                except GitregError:  # pragma: no cover - the validator checked that versions exist
                    continue
                if version == state.live:
                    state.digest = art.digest
                    state.path = str(self.target.artifact_path(model, version, art))
                if version == state.wanted:
                    state.wanted_digest = art.digest

    def _finish(self, run: Run, commit: str | None, outcome: Outcome, errors: list[str]) -> None:
        entry = HistoryEntry(
            time=now(),
            commit=commit,
            result=outcome,
            duration_seconds=round(time.monotonic() - run.start, 6),
            changes=[str(c) for c in run.changes],
            errors=errors,
        )
        self.status.record(entry)
        self._publish(write=True)

    # --- plumbing ---------------------------------------------------------------------------------------

    def _publish(self, write: bool) -> None:
        copy = self.status.model_copy(deep=True)
        with self._lock:
            self._published = copy
        if write:
            try:
                statuses.write(self.target.status_file, copy)
            except GitregError as exc:
                self._event("status-write-failed", "error", error=str(exc))

    def _count(self, kind: str, ok: bool) -> None:
        self.metrics.git_requests.labels(kind).inc()
        if not ok:
            self.metrics.git_failures.labels(kind).inc()

    def _event(self, name: str, level: Level = "info", **fields: Field) -> None:
        self.log(Event(name, level, fields))


def reconcile_once(
    repo: str,
    stage: str,
    target: str | Path,
    *,
    branch: str = DEFAULT_BRANCH,
    keep: int = 2,
    prune: bool = False,
    verify_signatures: bool = False,
    allowed_signers: str | Path | None = None,
    allow_non_fast_forward: bool = False,
    on_deploy: str | None = None,
    rollback_on_hook_failure: bool = False,
    log: Log = ignore,
) -> ReconcileResult:
    """Reconcile ``target`` with ``stage`` on ``repo``'s ``branch`` once and return what was done (the
    options are those of ``gitreg controller``)."""
    config = ControllerConfig(
        repo,
        stage,
        Path(target),
        branch=branch,
        keep=keep,
        prune=prune,
        verify_signatures=verify_signatures,
        allowed_signers=Path(allowed_signers) if allowed_signers is not None else None,
        allow_non_fast_forward=allow_non_fast_forward,
        on_deploy=on_deploy,
        rollback_on_hook_failure=rollback_on_hook_failure,
    )
    with Controller(config, log) as controller:
        return controller.reconcile(force=True)
