"""The validator's verdict on each change main's first-parent history made, judged in one walk.

``audit`` asks for the verdict of every commit that changed a stage: the validator's own (``validate`` of the
commit against its first parent, rollbacks judged by what the stages held before). Most such commits are a
promotion that changes stage files and nothing else; for those, the only rules that can find anything are
the ones about the entries the change made (and the stage files' own rules), and they are checked here from
the walk's running state: the stage files' entries (``StageTracker``), the blob of every file under models/
and of registry.yaml (from the log's raw diffs), each blob parsed once (a bounded cache: memory does not
grow with the history). A promotion that passes those checks passes the validator; anything else (a
change to registry.yaml or models/, a stage file that is not plain ``model: version`` lines, any rule
that finds something) is judged by ``validate`` itself, so every verdict, and every failure's message, is
the validator's."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from gitreg import yamlblock, yamlio
from gitreg.errors import GitregError
from gitreg.gitahead import BlobsAhead, Ticket
from gitreg.gitoutput import ZERO_SHA
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.gittrees import Changes, TreeChanges
from gitreg.layout import (
    MODELS_DIR,
    REGISTRY_FILE,
    STAGE_FILE,
    STAGES_DIR,
    model_path,
    stage_path,
    version_path,
)
from gitreg.records import ModelRecord, VersionRecord
from gitreg.stage_history import Held, StageStep, StageTracker, simple_entry
from gitreg.stage_patches import windows as _windows
from gitreg.validate.light import light
from gitreg.validate.rules.stages import check_policy
from gitreg.walk_cache import WalkCache

if TYPE_CHECKING:
    from gitreg.validate.view import ParseCache

#: The kinds (``gitreg.layout.KINDS``) of the files the walk parses. A file in the plain form that the typed
#: model accepts as it is comes back as a record (``validate.light``); pydantic (``gitreg.manifest``) and the
#: validator are imported only for a file or a commit they alone can judge.
_REGISTRY, _MODEL, _VERSION = "Registry", "Model", "ModelVersion"
_MODELS = f"{MODELS_DIR}/"
_STAGES = f"{STAGES_DIR}/"
#: Each kind's typed model, by its name in ``gitreg.manifest``.
_TYPED = {_REGISTRY: "RegistryConfig", _MODEL: "ModelInfo", _VERSION: "ModelVersion"}
#: What ``Judge._fetch`` asks for a window: its cached verdicts and artifacts, and the blobs it will parse.
_Fetched = tuple[dict[str, str], dict[str, "tuple[str, int] | None"], Ticket]

#: Parsed blobs kept at once; older ones are parsed again if met again.
CACHE_SIZE = 4096
#: Files a full validation keeps parsed across commits, before the cache starts over.
SHARED_PARSES = 20000
#: Commits read ahead of the one being judged, so that the files judging them reads come in one cat-file run.
READ_AHEAD = 64


class Judge:
    """Verdicts along one first-parent walk: ``advance`` each commit in order (oldest first), then ask."""

    def __init__(self, repo: GitRepo, ahead: int = READ_AHEAD, cache: WalkCache | None = None) -> None:
        self.repo = repo
        self.ahead = ahead  # commits read ahead (``read_ahead``)
        self.cache = cache
        self.stages = StageTracker(repo, cache)
        self.held = Held()  # what the stages held before the commit being judged
        self.files: dict[str, str] = {}  # path -> blob, under models/ and registry.yaml
        self._parsed: OrderedDict[tuple[str, str], Any] = OrderedDict()  # (blob, kind) -> record or model
        self._shared: ParseCache = {}  # files a full validation parsed, shared across commits
        self._fetched: dict[str, bytes] = {}  # blobs read ahead for the commits about to be judged
        self._verdicts: dict[str, str] = {}  # cached verdicts of the commits about to be judged
        self._artifacts: dict[str, tuple[str, int] | None] = {}  # cached, by version file blob
        self.full_runs = 0  # commits ``validate`` judged (for tests and benchmarks)
        self._rules_of: tuple[str | None, _Rules | None] = (None, None)  # registry.yaml's blob, its rules
        self._ahead_files: dict[str, str] = {}  # ``files`` as the windows asked for so far leave them
        #: models/ changes since the commit walked before, by commit (``_with_models``), of the windows asked
        self._models: dict[str, Changes] = {}
        #: models/ changes the walk itself says: the first commit's (models/ as it holds it), and those of a
        #: commit right after the one before (its own changes)
        self._known_models: dict[str, Changes] = {}

    def advance(self, landing: LogCommit) -> list[StageStep]:
        """Move the running state past ``landing``; its stage steps. Call ``held_after`` once judged."""
        _move(self.files, landing, self._models.pop(landing.commit, {}))
        return self.stages.advance(landing)

    def held_after(self, steps: list[StageStep]) -> None:
        for step in steps:
            self.held.add(step)

    def read_ahead(
        self, walk: Iterable[LogCommit], judged: Callable[[LogCommit], bool]
    ) -> Iterator[LogCommit]:
        """``walk`` (raw: no ``--patch``) as it comes, ``ahead`` commits at a time: first their stage
        changes (``StageTracker.read_ahead``), then the cached verdicts of those of them that are
        ``judged``, and the files that judging the others will read (registry.yaml, and each model and
        version their stage changes add), asked of git together (``GitRepo.blobs_ahead``) while the window
        before is judged, instead of a request per file. Only a guess from the diffs: a file not fetched is
        read when asked, so it changes what is read when, never a verdict."""
        held: tuple[list[LogCommit], _Fetched] | None = None
        with self.repo.blobs_ahead() as ahead, self.repo.tree_changes([_MODELS]) as models:
            walk = self._with_models(walk, models)
            # the stage files' blobs asked a window further ahead than this takes commits
            for window in _windows(self.stages.read_ahead(walk, self.ahead), self.ahead):
                for landing in window:  # in the order asked
                    known = self._known_models.pop(landing.commit, None)
                    self._models[landing.commit] = models.take() if known is None else known
                asked = (window, self._fetch(window, judged, ahead))
                if held is not None:
                    self._take(held[1])
                    yield from held[0]
                held = asked
            if held is not None:
                self._take(held[1])
                yield from held[0]

    def _with_models(self, walk: Iterable[LogCommit], models: TreeChanges) -> Iterator[LogCommit]:
        """``walk``, each commit's changes kept to the paths a verdict reads, and what changed below models/
        since the commit before: for the first commit, what models/ holds; for a commit right after the one
        before, its own changes (the walk gives them all: ``--full-diff``, or models/ among its paths); for
        one after commits the walk does not hold, git's diff of the two (``GitRepo.tree_changes``, asked
        here and taken in ``read_ahead``'s order). ``audit``'s walk holds only the commits that change
        stages/ or registry.yaml: git compares two trees once after each run of commits it skips, instead of
        following models/ through every commit that registered a version."""
        before: str | None = None
        for landing in walk:
            landing.changes = {path: change for path, change in landing.changes.items() if _audited(path)}
            if before is None:
                held = self.repo.ls_tree(landing.commit, [_MODELS])
                self._known_models[landing.commit] = {p: (ZERO_SHA, b, "A") for p, b in held.items()}
            elif landing.parents[:1] == [before]:  # right after the commit before: its own changes say it
                own = landing.changes.items()
                self._known_models[landing.commit] = {p: c for p, c in own if p.startswith(_MODELS)}
            else:
                models.ask(landing.commit, before)
            before = landing.commit
            yield landing

    def _take(self, fetched: _Fetched) -> None:
        """Hold what was fetched for the window about to be walked."""
        self._verdicts, self._artifacts, ticket = fetched
        self._fetched = ticket.result()

    def _fetch(
        self, window: list[LogCommit], judged: Callable[[LogCommit], bool], ahead: BlobsAhead
    ) -> _Fetched:
        """Ask for what judging ``window`` (the commits after those fetched for so far) will read."""
        files = self._ahead_files  # the files as the windows fetched for so far leave them
        judging = [landing.commit for landing in window if judged(landing)]
        verdicts = self.cache.verdicts(judging) if self.cache is not None and judging else {}
        plans: list[tuple[bool, list[tuple[str, str]]]] = []
        for landing in window:
            _move(files, landing, self._models[landing.commit])
            if not judged(landing) or not self._changes_entries(landing):
                continue
            known = landing.commit in verdicts
            needs: list[tuple[str, str]] = [] if known else [(REGISTRY_FILE, _REGISTRY)]
            for model, number in self._added(landing):
                needs += [] if known else [(model_path(model), _MODEL)]
                needs.append((version_path(model, number), _VERSION))
            plans.append((known, [(files.get(path) or "", kind) for path, kind in needs]))
        versions = [blob for _k, needs in plans for blob, kind in needs if blob and kind == _VERSION]
        artifacts = self.cache.artifacts(versions) if self.cache is not None and versions else {}
        wanted: dict[str, None] = {}
        for known, needs in plans:
            for blob, kind in needs:
                if not blob or (blob, kind) in self._parsed or (known and blob in artifacts):
                    continue
                wanted[blob] = None
        return verdicts, artifacts, ahead.request(list(wanted))

    def _changes_entries(self, landing: LogCommit) -> bool:
        """Whether ``landing`` (prepared by the stage tracker) may change a stage entry (and so be judged)."""
        for path, (old, new, _status) in landing.changes.items():
            if STAGE_FILE.match(path):
                known = self.stages.patches.known.get((old, new))
                if known is None or known.delta:
                    return True
        return False

    def _added(self, landing: LogCommit) -> Iterator[tuple[str, int]]:
        """(model, version) of each stage entry ``landing`` (prepared by the stage tracker) adds."""
        for path, (old, new, _status) in landing.changes.items():
            if not STAGE_FILE.match(path):
                continue
            known = self.stages.patches.known.get((old, new))
            if known is not None:
                yield from ((model, number) for model, _was, number in known.delta if number is not None)
            patch = landing.patches.get(path)
            for line in patch[1] if patch is not None else ():
                entry = simple_entry(line)
                if entry is not None:
                    yield entry

    def version(self, model: str, number: int) -> Any:
        """The version as the last commit advanced over has it, as a record or a ``ModelVersion`` (None if
        absent or invalid)."""
        return self.parsed(version_path(model, number), _VERSION)

    def artifact(self, model: str, number: int) -> tuple[str, int] | None:
        """(digest, size) of the version as the last commit advanced over has it (None if absent or
        invalid): from the cache, by the version file's blob, else parsed (and cached)."""
        blob = self.files.get(version_path(model, number))
        if blob is None:
            return None
        if blob in self._artifacts:
            return self._artifacts[blob]
        version = self.version(model, number)
        if version is None:
            found = None
        elif isinstance(version, VersionRecord):
            found = version.digest_and_size()
        else:
            found = (version.artifact.digest, version.artifact.size)
        self._artifacts[blob] = found
        if self.cache is not None:
            self.cache.add_artifact(blob, found)
        return found

    def parsed(self, path: str, kind: str) -> Any:
        """The file at ``path`` as the walk stands, parsed as ``kind`` (one of ``_TYPED``): its record, or
        its typed model if only the model can read it; None if absent or invalid."""
        blob = self.files.get(path)
        if blob is None:
            return None
        key = (blob, kind)
        if key in self._parsed:
            self._parsed.move_to_end(key)
        else:
            try:
                data = self._fetched.pop(blob, None) or self.repo.read_blob(blob)
                # a record where the typed model accepts the file as it is (the validator reads the same):
                # read quickly when it is in the plain form (yamlblock gives what the loader would)
                value: Any = light(kind, yamlblock.data(data))
                if value is None:
                    doc = yamlio.load(data, path)
                    value = light(kind, doc.data) or _typed(kind, doc)
            except (GitregError, ValueError):
                value = None
            self._parsed[key] = value
            if len(self._parsed) > CACHE_SIZE:
                self._parsed.popitem(last=False)
        return self._parsed[key]

    def verdict(self, landing: LogCommit, steps: list[StageStep]) -> str:
        """The validator's verdict on ``landing`` (advanced over, ``held_after`` not yet called): the
        cache's, read ahead with the window, else judged (and cached)."""
        cached = self._verdicts.get(landing.commit)
        if cached is not None:
            return cached
        verdict = "pass" if self._passes(landing, steps) else self.full_verdict(landing)
        if self.cache is not None:
            self.cache.add_verdict(landing.commit, verdict)
        return verdict

    def full_verdict(self, landing: LogCommit) -> str:
        """``validate`` of the commit against its first parent, with the files' parses shared."""
        from gitreg.snapshot import CommitSnapshot  # noqa: PLC0415 - the validator, only for what the walk cannot judge
        from gitreg.validate import Base, validate  # noqa: PLC0415 - see above
        from gitreg.validate.view import View  # noqa: PLC0415 - see above

        self.full_runs += 1
        if len(self._shared) > SHARED_PARSES:
            self._shared.clear()
        view = View(CommitSnapshot(self.repo, landing.commit), self._shared)
        if landing.parents:
            changes = {path: status for path, (_old, _new, status) in landing.changes.items()}
            base = Base(View(CommitSnapshot(self.repo, landing.parents[0]), self._shared), changes, self.held)
            report = validate(view, base)
        else:
            report = validate(view)
        if not report.errors:
            return "pass"
        return f"fail: {report.errors[0]}"

    def _rules(self) -> _Rules | None:
        """What registry.yaml, as the walk stands, asks of a promotion (None if it is absent or invalid):
        read once per blob of it, not once per promotion."""
        blob = self.files.get(REGISTRY_FILE)
        if self._rules_of[0] != blob:
            config = self.parsed(REGISTRY_FILE, _REGISTRY)
            self._rules_of = (blob, None if config is None else _Rules(config))
        return self._rules_of[1]

    def _passes(self, landing: LogCommit, steps: list[StageStep]) -> bool:
        """Whether the validator surely finds no error in ``landing``: a change of stage files alone whose
        new entries meet every rule (False: not sure, let the validator judge)."""
        if not landing.parents or not steps:
            return False
        if len(steps) != len(landing.changes):  # a step for each stage file it changed, and nothing else
            return False  # registry.yaml, models/ or anything else under stages/ changed
        rules = self._rules()
        if rules is None:
            return False
        for step in steps:
            path = stage_path(step.stage)
            if landing.changes[path][2] == "D":
                continue  # a stage file that is gone has no rules to meet
            spec = rules.stages.get(step.stage)
            size = self.stages.state(step.stage).plain_size
            if spec is None or size is None or size > rules.max_file_size:
                return False
            requires, stage_policies = spec
            for model, _old, number in step.changed():
                if number is None:
                    continue  # leaving a stage breaks no rule
                info = self.parsed(model_path(model), _MODEL)
                version = self.version(model, number)
                if info is None or version is None or version.status == "archived":
                    return False
                own = _own_policy(info, step.stage)
                for policy in stage_policies if own is None else [*stage_policies, own]:
                    if next(check_policy(path, 0, 0, step.stage, version, policy), None):
                        return False
                if requires and not self._required_held(steps, step.stage, requires, model, number):
                    return False
        return True

    def _required_held(
        self, steps: list[StageStep], stage: str, requires: list[str], model: str, number: int
    ) -> bool:
        """Whether ``model`` ``number`` may enter ``stage`` (changed by one of ``steps``): each stage it
        requires held that version before the commit, or ``stage`` held it before (a rollback)."""
        before = {step.stage: step.before for step in steps}
        missing = [
            r
            for r in requires
            if (before[r] if r in before else self.stages.state(r).entries).get(model) != number
        ]
        return not missing or self.held(stage, model, number)


def _move(files: dict[str, str], landing: LogCommit, models: Changes) -> None:
    """Move ``files`` (path -> blob) past ``landing``: registry.yaml by its own changes, models/ by what
    changed there since the commit walked before."""
    change = landing.changes.get(REGISTRY_FILE)
    for path, (_old, new, status) in ([(REGISTRY_FILE, change)] if change else []) + list(models.items()):
        if status == "D":
            files.pop(path, None)
        else:
            files[path] = new


def _audited(path: str) -> bool:
    """Whether a verdict reads ``path``'s change: a stage file, a model's file or registry.yaml (a commit
    that changes only other files is the same commit to the validator)."""
    return path == REGISTRY_FILE or path.startswith((_MODELS, _STAGES))


class _Rules:
    """registry.yaml's rules for promotions: each stage's (required stages, policies that ask anything),
    the first stage of each name as ``RegistryConfig.stage`` finds it; the stage files' size limit."""

    __slots__ = ("max_file_size", "stages")

    def __init__(self, config: Any) -> None:  # a ConfigRecord, or a RegistryConfig
        self.max_file_size: int = config.rules.max_file_size
        self.stages: dict[str, tuple[list[str], list[Any]]] = {}
        for spec in config.stages:
            policy = spec.policy
            asks = [_Policy(policy.fields, policy.metrics)] if policy.fields or policy.metrics else []
            self.stages.setdefault(spec.name, (list(spec.requires), asks))


class _Policy:
    """A stage's policy as plain values: what ``check_policy`` reads of it, read once per registry.yaml."""

    __slots__ = ("fields", "metrics")

    def __init__(self, fields: list[str], metrics: dict[str, str]) -> None:
        self.fields = list(fields)
        self.metrics = dict(metrics)


def _own_policy(info: Any, stage: str) -> Any:
    """A model's own policy for ``stage`` (its record's or its model's), if it sets one that asks anything."""
    if isinstance(info, ModelRecord):
        return info.policy_for(stage)
    policy = info.policy.get(stage)
    return policy if policy is not None and (policy.fields or policy.metrics) else None


def _typed(kind: str, doc: yamlio.Document) -> Any:
    """The file as its typed model reads it (``gitreg.manifest``)."""
    from gitreg import manifest  # noqa: PLC0415 - pydantic, only for a file the light path does not read

    return manifest.parse(getattr(manifest, _TYPED[kind]), doc)
