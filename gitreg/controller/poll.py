"""A poll that finds the applied commit, answered with the standard library: what ``gitreg controller
--once`` does first, so that a poll with nothing to do costs start-up and one ``git ls-remote``.

It does what ``Controller`` does up to its "nothing more to do" (take the target's lock, clean up what a
killed controller left, read ``status.json``, ask the remote for the branch's tip, check that every
``current`` link still names the version the status says) and concludes only when the full controller
would change nothing at all: status.json is one the full controller reads without a doubt, the remote is
not newly reachable, the tip is the commit observed and applied, with the same spec, and the target is
intact. Anything else, the caller hands over to ``Controller`` (with the tip already learnt)."""

from __future__ import annotations

import json

from gitreg.controller.config import ControllerConfig
from gitreg.controller.events import Event, Log
from gitreg.controller.target import Target
from gitreg.errors import GitregError
from gitreg.gitlite import ls_remote
from gitreg.layout import NAME
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

OUTCOMES = ("unchanged", "applied", "partial", "invalid", "unreachable")
MODEL_STATES = ("synced", "progressing", "failed", "retained")


class Glance(Frozen):
    """What the quick poll learnt. ``unchanged``: the full controller would do nothing (``commit`` is the
    applied tip). Else ``answer`` is what ls-remote said (a commit, its error, or None if not asked)."""

    __match_args__ = ("unchanged", "commit", "answer")
    __slots__ = __match_args__
    unchanged: bool
    commit: str | None
    answer: str | GitregError | None

    def __init__(
        self, unchanged: bool, commit: str | None = None, answer: str | GitregError | None = None
    ) -> None:
        set_fields(self, unchanged, commit, answer)


def glance(config: ControllerConfig, log: Log) -> Glance:
    """Look without changing anything but what ``Controller.open`` changes (leftovers removed)."""
    target = Target(config.target)
    target.prepare()
    target.lock()
    try:
        removed = target.clean()
        if removed:
            log(Event("cleaned", "warning", {"removed": removed}))
        status = _read(target)
        if status is None or not _could_be_in_sync(status, config, target):
            return Glance(unchanged=False)
        try:
            commit = ls_remote(config.repo, config.branch, config.git_timeout)
        except GitregError as exc:
            return Glance(unchanged=False, answer=exc)
        if commit is None:  # no such branch: the full controller says so
            return Glance(unchanged=False)
        unchanged = status["observed"]["commit"] == commit and status["applied"]["commit"] == commit
        return Glance(unchanged=unchanged, commit=commit, answer=commit)
    finally:
        target.unlock()


def _could_be_in_sync(status: dict[str, Any], config: ControllerConfig, target: Target) -> bool:
    """Controller._in_sync, but for the commit, with nothing for the full controller to report first."""
    if status.get("remote_error") is not None:  # the remote answering again is an event and a write
        return False
    if status.get("observed") is None or status.get("applied") is None:
        return False
    spec = status.get("spec")
    wanted = config.spec_fields()
    if spec is None or {key: spec.get(key) for key in wanted} != wanted:
        return False
    models: dict[str, dict[str, Any]] = status.get("models", {})
    if not all(isinstance(model, str) and NAME.match(model) for model in models):
        return False  # a hand-edited or hostile status.json: the full controller refuses it
    return all(target.live(model) == state.get("live") for model, state in models.items())


def _read(target: Target) -> dict[str, Any] | None:
    """status.json as JSON, if the full controller's model (status.Status) takes it as it is; None when in
    any doubt (the full controller then decides)."""
    try:
        raw = target.status_file.read_bytes()
        data = None if raw.startswith(b"\xef\xbb\xbf") else json.loads(raw)  # a BOM: pydantic refuses it
    except (OSError, ValueError):
        return None
    return data if _matches(data, STATUS) else None


# The shape of status.json (status.Status and its parts), as strict as the pydantic models or stricter:
# a field is (types, required). tests/controller/test_poll.py checks these against the models' fields.
_S, _N, _I, _F, _B = (str,), (None,), (int,), (int, float), (bool,)
COMMIT_MARK = {"commit": (_S, True), "time": (_S, True)}
ATTEMPT = {"commit": (_S, True), "time": (_S, True), "result": (OUTCOMES, True), "errors": ([_S], False)}
REMOTE_ERROR = {"message": (_S, True), "since": (_S, True)}
MODEL_STATUS = {
    "wanted": (_I + _N, False),
    "live": (_I + _N, False),
    "digest": (_S + _N, False),
    "path": (_S + _N, False),
    "wanted_digest": (_S + _N, False),
    "state": (MODEL_STATES, False),
    "error": (_S + _N, False),
    "changed_at": (_S + _N, False),
    "failed_version": (_I + _N, False),
    "failures": (_I, False),
    "retry_at": (_S + _N, False),
}
HISTORY_ENTRY = {
    "time": (_S, True),
    "commit": (_S + _N, True),
    "result": (OUTCOMES, True),
    "duration_seconds": (_F, True),
    "changes": ([_S], False),
    "errors": ([_S], False),
}
SPEC = {
    "repo": (_S, True),
    "branch": (_S, True),
    "stage": (_S, True),
    "prune": (_B, True),
    "keep": (_I, True),
}
STATUS = {
    "apiVersion": (_S, False),
    "kind": (_S, False),
    "spec": ((SPEC, None), False),
    "target": (_S, False),
    "last_poll": (_S + _N, False),
    "observed": ((COMMIT_MARK, None), False),
    "attempted": ((ATTEMPT, None), False),
    "applied": ((COMMIT_MARK, None), False),
    "remote_error": ((REMOTE_ERROR, None), False),
    "models": ({"*": MODEL_STATUS}, False),
    "history": ([HISTORY_ENTRY], False),
}


def _matches(value: Any, shape: Any) -> bool:
    """Whether ``value`` has ``shape``: a tuple of alternatives; a type; None; a string (that literal);
    a list of one shape (a JSON array of it); ``{"*": shape}`` (an object of it); a dict of fields, each
    (shape, required) (an object: other keys are ignored, as the models ignore them)."""
    if isinstance(shape, tuple):
        return any(_matches(value, option) for option in shape)
    if isinstance(shape, list):
        return isinstance(value, list) and all(_matches(item, shape[0]) for item in value)
    if isinstance(shape, dict) and "*" in shape:
        return isinstance(value, dict) and all(_matches(item, shape["*"]) for item in value.values())
    if isinstance(shape, dict):
        if not isinstance(value, dict) or "api_version" in value:  # an alias pydantic takes: not ours
            return False
        return all(
            _matches(value[name], field) if name in value else not required
            for name, (field, required) in shape.items()
        )
    if isinstance(shape, type):
        return shape is bool if isinstance(value, bool) else isinstance(value, shape)  # True is no int here
    if shape is None:
        return value is None
    return isinstance(value, str) and value == shape
