"""Rules about one file at a time: it parses, matches its schema, agrees with its path, names its artifact
with one portable file name, is small, and holds no credentials. Each rule takes the view and a path and
returns findings; none does I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from gitreg.credentials import CREDENTIAL_PATTERNS, is_secret_name, url_secrets
from gitreg.filesystem import name_problem, shown
from gitreg.layout import MODEL_FILE, STAGE_FOLDER_FILE, VERSION_FILE, VERSION_FILE_NAME
from gitreg.validate.findings import Finding
from gitreg.validate.rules.retention import check_retention
from gitreg.validate.view import View

DEFAULT_MAX_FILE_SIZE = 1024 * 1024


def check_file(view: View, path: str) -> list[Finding]:
    """Every single-file rule that applies to ``path``."""
    findings = list(_large_file(view, path))
    if path.endswith("/.gitkeep"):
        return findings
    if path == "registry.yaml":
        findings += _registry_file(view)
    elif match := MODEL_FILE.match(path):
        findings += _model_file(view, path, match.group(1))
    elif match := VERSION_FILE.match(path):
        findings += _version_file(view, path, match.group(1), match.group(2))
    elif match := STAGE_FOLDER_FILE.match(path):
        findings += _stage_file(view, path, match.group(1))
    elif path.startswith("models/"):
        findings.append(
            Finding(
                path,
                0,
                0,
                "stray-file",
                "unexpected file in models/: only model.yaml and versions/<n>.yaml belong there",
            )
        )
    else:
        return findings
    findings += view.problems.get(path, [])
    findings += _credentials(view, path)
    return findings


def size_limit(view: View) -> int:
    config = view.config
    return config.rules.max_file_size if config else DEFAULT_MAX_FILE_SIZE


def large_file(path: str, size: int | None, limit: int) -> Finding | None:
    if size is None or size <= limit:
        return None
    return Finding(
        path,
        0,
        0,
        "large-file",
        f"file is {size} bytes, over the {limit}-byte limit: model files belong in the blob store "
        "(gitreg register), not in the registry repository",
    )


def _large_file(view: View, path: str) -> Iterator[Finding]:
    finding = large_file(path, view.snapshot.size(path), size_limit(view))
    if finding is not None:
        yield finding


def _registry_file(view: View) -> Iterator[Finding]:
    config = view.config
    if config is None:
        return
    names = [s.name for s in config.stages]
    for index, stage in enumerate(config.stages):
        if names.index(stage.name) != index:
            line, col = view.position("registry.yaml", ("stages", index))
            yield Finding("registry.yaml", line, col, "config", f"stage {stage.name!r} is declared twice")
        for req_index, required in enumerate(stage.requires):
            if required not in names:
                line, col = view.position("registry.yaml", ("stages", index, "requires", req_index))
                yield Finding(
                    "registry.yaml",
                    line,
                    col,
                    "config",
                    f"stage {stage.name!r} requires undeclared stage {required!r}",
                )
            elif required == stage.name:
                line, col = view.position("registry.yaml", ("stages", index, "requires", req_index))
                yield Finding("registry.yaml", line, col, "config", f"stage {stage.name!r} requires itself")
    yield from check_retention(view, "registry.yaml", config)
    secrets = url_secrets(config.storage.url)
    if secrets:
        line, col = view.position("registry.yaml", ("storage", "url"))
        yield Finding(
            "registry.yaml",
            line,
            col,
            "credential",
            f"storage.url carries {' and '.join(secrets)}: give credentials through the backend's "
            "environment variables or profiles (or GITREG_STORAGE_URL), never in the repository",
        )
    for key in config.storage.options:
        if is_secret_name(key):
            line, col = view.position("registry.yaml", ("storage", "options", key))
            yield Finding(
                "registry.yaml",
                line,
                col,
                "credential",
                f"storage option {key!r} looks like a credential: give credentials through the backend's "
                "environment variables or profiles, never in the repository",
            )


def _model_file(view: View, path: str, folder: str) -> Iterator[Finding]:
    info = view.manifest(path, "Model")
    if info is None:
        return
    if info.name != folder:
        line, col = view.position(path, ("name",))
        yield Finding(
            path, line, col, "path-mismatch", f"name is {info.name!r} but the folder is models/{folder}/"
        )
    config = view.config
    if config is not None:
        for stage in info.policy:
            if config.stage(stage) is None:
                line, col = view.position(path, ("policy", stage))
                yield Finding(path, line, col, "config", f"policy for undeclared stage {stage!r}")
    yield from check_retention(view, path, info)
    if not info.owners:
        line, col = view.position(path, ("name",))
        yield Finding(
            path,
            line,
            col,
            "no-owners",
            "model has no owners: add CODEOWNERS handles under owners:",
            "warning",
        )


def _version_file(view: View, path: str, folder: str, filename: str) -> Iterator[Finding]:
    match = VERSION_FILE_NAME.match(filename)
    if not match:
        yield Finding(
            path,
            0,
            0,
            "path-mismatch",
            "version files are named <positive integer>.yaml, e.g. versions/3.yaml",
        )
        return
    version = view.manifest(path, "ModelVersion")
    if version is None:
        return
    if version.model != folder:
        line, col = view.position(path, ("model",))
        yield Finding(
            path,
            line,
            col,
            "path-mismatch",
            f"model is {version.model!r} but the file is in models/{folder}/",
        )
    if version.version != int(match.group(1)):
        line, col = view.position(path, ("version",))
        yield Finding(
            path, line, col, "path-mismatch", f"version is {version.version} but the file is named {filename}"
        )
    yield from _non_finite_metrics(view, path, version.metrics)
    name = version.artifact.name
    problem = name_problem(name)
    if problem is not None:  # pull and the controller write a file by this name
        line, col = view.position(path, ("artifact", "name"))
        yield Finding(
            path,
            line,
            col,
            "unsafe-name",
            f"artifact.name {shown(name)} {problem}: give the file or folder name alone, "
            "as gitreg register records it",
        )


def _non_finite_metrics(view: View, path: str, metrics: dict[str, float]) -> Iterator[Finding]:
    """YAML's ``.nan`` and ``.inf`` are numbers to YAML but not to JSON, and no threshold can judge them."""
    for key, value in metrics.items():
        if not math.isfinite(value):
            written = ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
            line, col = view.position(path, ("metrics", key))
            message = f"metrics.{key} is {written}: write a finite number, or leave the metric out"
            yield Finding(path, line, col, "non-finite-metric", message)


def _stage_file(view: View, path: str, filename: str) -> Iterator[Finding]:
    if not filename.endswith(".yaml"):
        yield Finding(path, 0, 0, "unknown-stage", "stage files are named <stage>.yaml")
        return
    stage = filename.removesuffix(".yaml")
    config = view.config
    if config is not None and config.stage(stage) is None:
        declared = ", ".join(s.name for s in config.stages) or "none"
        yield Finding(
            path,
            0,
            0,
            "unknown-stage",
            f"stage {stage!r} is not declared in registry.yaml (declared: {declared})",
        )
    view.manifest(path, "Stage")


#: For each credential pattern, text that every match of it contains (``lower`` first: in the lowercased
#: text): a pattern runs only over a file that holds one of them. Substring searches are a fast C loop, so
#: a clean file costs one pass per needle instead of a regex scan per pattern. A pattern missing here always
#: runs. tests/validate/test_credential_needles.py holds each pattern's matches to its needles.
CREDENTIAL_NEEDLES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "an AWS access key id": (False, ("AKIA", "ASIA")),
    "an AWS secret access key": (True, ("aws",)),
    "a private key": (False, ("-----BEGIN ",)),
    "a GitHub token": (False, ("gh", "github_pat_")),
    "a GitLab token": (False, ("glpat-",)),
    "a Slack token": (False, ("xox",)),
    "a Google API key": (False, ("AIza",)),
    "an Azure storage account key": (False, ("AccountKey=",)),
    "a password in a URL": (False, ("://",)),
}


def _credential_patterns(text: str) -> Iterator[tuple[str, re.Pattern[str]]]:
    """The credential patterns that can match somewhere in ``text``."""
    lowered = None
    for what, pattern in CREDENTIAL_PATTERNS:
        lower, needles = CREDENTIAL_NEEDLES.get(what, (False, ("",)))
        if lower and lowered is None:
            lowered = text.lower()
        haystack = lowered if lower and lowered is not None else text
        if any(needle in haystack for needle in needles):
            yield what, pattern


def _credentials(view: View, path: str) -> Iterator[Finding]:
    data = view.read(path)
    if data is None:
        return
    text = data.decode("utf-8", errors="replace")
    # One pattern at a time: each alone lets the regex engine skip ahead on its first characters,
    # which a single alternation of all of them cannot (measured: 0.6x the time of the alternation).
    for what, pattern in _credential_patterns(text):
        # Lines are counted on from the previous match, not from the top: a file full of matches stays linear.
        line, line_start, counted = 1, 0, 0
        for match in pattern.finditer(text):
            newlines = text.count("\n", counted, match.start())
            if newlines:
                line += newlines
                line_start = text.rfind("\n", counted, match.start()) + 1
            counted = match.start()
            col = match.start() - line_start + 1
            yield Finding(
                path,
                line,
                col,
                "credential",
                f"this looks like {what}: remove it and rotate it; credentials never belong in the registry",
            )


# CREDENTIAL_PATTERNS lives in gitreg.credentials; it stays importable from here, where it used to be.
__all__ = ["CREDENTIAL_PATTERNS", "DEFAULT_MAX_FILE_SIZE", "check_file", "large_file", "size_limit"]
