"""What the stages held along a ref's first-parent history: the one answer to "which versions did this
stage hold before?", for the validator's rollback rule, ``promote``'s rollback and ``history``/``audit``.

Each first-parent commit that changed a stage file is a ``StageStep``: the stage's entries before and
after it, read from the blob ids ``git log --first-parent --raw`` gives (each blob parsed once). A stage
file that does not parse holds nothing. What a stage "held" is what it held after some step: ``Held``
gathers it, in the order the steps come, and every caller asks it the same way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from gitreg import yamlio
from gitreg.errors import GitregError
from gitreg.gitoutput import ZERO_SHA
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.layout import STAGE_FILE, STAGES_DIR, stage_path
from gitreg.manifest import StageFile


@dataclass(frozen=True)
class StageStep:
    """A first-parent commit that changed a stage file: what the stage held before it and after it."""

    commit: LogCommit
    stage: str
    before: Mapping[str, int]
    after: Mapping[str, int]

    def changed(self, model: str | None = None) -> list[tuple[str, int | None, int | None]]:
        """(model, from version, to version) of each entry this step changed (None: not in the stage)."""
        names = sorted(set(self.before) | set(self.after))
        return [
            (name, self.before.get(name), self.after.get(name))
            for name in names
            if (model is None or name == model) and self.before.get(name) != self.after.get(name)
        ]


class StageReader:
    """The steps of logged commits, with stage files parsed by blob id (their contents repeat a lot)."""

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.cache: dict[str, dict[str, int]] = {ZERO_SHA: {}}

    def steps(self, commit: LogCommit) -> list[StageStep]:
        """The stage files ``commit`` changed, by path."""
        steps = []
        for path, (old, new, _status) in sorted(commit.changes.items()):
            match = STAGE_FILE.match(path)
            if match:
                steps.append(StageStep(commit, match.group(1), self.entries(old), self.entries(new)))
        return steps

    def entries(self, blob: str) -> dict[str, int]:
        if blob not in self.cache:
            try:
                doc = yamlio.load(self.repo.read_blob(blob), "stage")
                self.cache[blob] = dict(StageFile.model_validate(doc.data or {}).root)
            except (GitregError, ValueError):
                self.cache[blob] = {}
        return self.cache[blob]


def stage_log(repo: GitRepo, ref: str, stage: str | None = None) -> Iterator[LogCommit]:
    """The first-parent commits of ``ref`` that changed ``stage``'s file (any stage's if None), newest
    first."""
    return repo.first_parent_log(ref, [stage_path(stage)] if stage else [f"{STAGES_DIR}/"])


def stage_steps(repo: GitRepo, log: Iterable[LogCommit]) -> Iterator[StageStep]:
    """Every stage step of ``log`` (a first-parent log, in the order given)."""
    reader = StageReader(repo)
    for commit in log:
        yield from reader.steps(commit)


class Held:
    """The versions each stage held, gathered from steps in the order they are added."""

    def __init__(self, steps: Iterable[StageStep] = ()) -> None:
        self._held: dict[tuple[str, str], list[int]] = {}
        for step in steps:
            self.add(step)

    def add(self, step: StageStep) -> None:
        for model, number in step.after.items():
            versions = self._held.setdefault((step.stage, model), [])
            if number not in versions:
                versions.append(number)

    def versions(self, stage: str, model: str) -> list[int]:
        """Versions of ``model`` that ``stage`` held, in the order first met."""
        return list(self._held.get((stage, model), []))

    def __call__(self, stage: str, model: str, version: int) -> bool:
        return version in self._held.get((stage, model), [])


def held_versions(repo: GitRepo, ref: str, stage: str, model: str) -> list[int]:
    """Versions of ``model`` that ``stage`` held along ``ref``'s first-parent history, most recent first."""
    return Held(stage_steps(repo, stage_log(repo, ref, stage))).versions(stage, model)


class HeldAt:
    """``held_before(stage, model, version)`` for the validator: whether ``stage`` held that version at
    some first-parent commit of ``ref`` (``ref`` included); each stage's history is read on first ask."""

    def __init__(self, repo: GitRepo, ref: str) -> None:
        self.repo = repo
        self.ref = ref
        self._stages: dict[str, Held] = {}

    def __call__(self, stage: str, model: str, version: int) -> bool:
        if stage not in self._stages:
            self._stages[stage] = Held(stage_steps(self.repo, stage_log(self.repo, self.ref, stage)))
        return self._stages[stage](stage, model, version)
