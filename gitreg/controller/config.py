"""What a controller is asked to do (``ControllerConfig``) and what one reconcile did
(``ReconcileResult``, with one ``ModelChange`` per model it touched)."""

from __future__ import annotations

from gitreg.credentials import redact_url
from gitreg.errors import UsageError
from gitreg.layout import DEFAULT_BRANCH
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

if TYPE_CHECKING:  # status.py's models need pydantic, which a poll that finds nothing new does without
    from pathlib import Path

    from gitreg.controller.status import Outcome, Spec


class ControllerConfig(Frozen):
    """What to reconcile (``repo``'s ``branch``, one ``stage``, into ``target``) and how."""

    __match_args__ = (
        "repo",
        "stage",
        "target",
        "branch",
        "keep",
        "prune",
        "verify_signatures",
        "allowed_signers",
        "allow_non_fast_forward",
        "on_deploy",
        "rollback_on_hook_failure",
        "hook_timeout",
        "git_timeout",
        "retry_base",
        "retry_max",
    )
    __slots__ = __match_args__
    repo: str
    stage: str
    target: Path
    branch: str
    keep: int
    prune: bool
    verify_signatures: bool
    allowed_signers: Path | None
    # With verify_signatures, a tip that does not descend from the applied commit is refused unless this.
    allow_non_fast_forward: bool
    on_deploy: str | None
    rollback_on_hook_failure: bool
    hook_timeout: float
    git_timeout: float
    # A model that failed is retried on the same commit after retry_base seconds, doubled per failure.
    retry_base: float
    retry_max: float

    def __init__(
        self,
        repo: str,
        stage: str,
        target: Path,
        branch: str = DEFAULT_BRANCH,
        keep: int = 2,
        prune: bool = False,
        verify_signatures: bool = False,
        allowed_signers: Path | None = None,
        allow_non_fast_forward: bool = False,
        on_deploy: str | None = None,
        rollback_on_hook_failure: bool = False,
        hook_timeout: float = 300.0,
        git_timeout: float = 300.0,
        retry_base: float = 10.0,
        retry_max: float = 600.0,
    ) -> None:
        set_fields(
            self,
            repo,
            stage,
            target,
            branch,
            keep,
            prune,
            verify_signatures,
            allowed_signers,
            allow_non_fast_forward,
            on_deploy,
            rollback_on_hook_failure,
            hook_timeout,
            git_timeout,
            retry_base,
            retry_max,
        )
        if self.keep < 1:
            raise UsageError(f"--keep {self.keep}: keep at least 1 version (the live one)")
        if self.allowed_signers is not None and not self.allowed_signers.is_file():
            raise UsageError(f"--allowed-signers {self.allowed_signers}: no such file")

    def spec(self) -> Spec:
        from gitreg.controller.status import Spec  # noqa: PLC0415 - pydantic, only once there is work

        return Spec(**self.spec_fields())

    def spec_fields(self) -> dict[str, str | bool | int]:
        """The spec as status.json holds it; the repository's URL with a token redacted (equal either way)."""
        return {
            "repo": redact_url(self.repo),
            "branch": self.branch,
            "stage": self.stage,
            "prune": self.prune,
            "keep": self.keep,
        }


class ModelChange(Frozen):
    """What happened to one model: ``old`` and ``new`` are the live versions before and after (equal
    when the change failed); ``action`` is deploy (downloaded), switch (to a kept version), prune, or hook
    (the on-deploy hook run again because a stopped controller may not have finished it)."""

    __match_args__ = ("model", "old", "new", "wanted", "action", "error")
    __slots__ = __match_args__
    model: str
    old: int | None
    new: int | None
    wanted: int | None
    action: str
    error: str | None

    def __init__(
        self,
        model: str,
        old: int | None,
        new: int | None,
        wanted: int | None,
        action: str,
        error: str | None = None,
    ) -> None:
        set_fields(self, model, old, new, wanted, action, error)

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        if self.action == "prune":
            text = f"{self.model} {self.old} pruned"
        elif self.action == "hook":
            text = f"{self.model} {self.new}: on-deploy hook run again"
        else:
            text = f"{self.model} {'none' if self.old is None else self.old} -> {self.wanted}"
        return f"{text} failed: {self.error}" if self.error else text


class ReconcileResult(Frozen):
    """What one reconcile did. ``outcome``: unchanged (nothing to do), applied (every wanted version is
    live), partial (some models failed; see changes), invalid (the commit was refused; errors say why),
    unreachable (the remote could not be asked)."""

    __match_args__ = ("outcome", "commit", "changes", "errors", "duration")
    __slots__ = __match_args__
    outcome: Outcome
    commit: str | None
    changes: tuple[ModelChange, ...]
    errors: tuple[str, ...]
    duration: float

    def __init__(
        self,
        outcome: Outcome,
        commit: str | None,
        changes: tuple[ModelChange, ...] = (),
        errors: tuple[str, ...] = (),
        duration: float = 0.0,
    ) -> None:
        set_fields(self, outcome, commit, changes, errors, duration)
