"""Self-contained registry URIs: the registry's git repository and a reference in one string, which is all a
serving init container is given (KServe's storage containers are called ``<src-uri> <dest-path>``)::

    gitreg+https://git.example.com/ml/registry.git#fraud@production
    gitreg+ssh://git@git.example.com/ml/registry.git@release#fraud@3
    gitreg+file:///srv/git/registry.git#fraud

``gitreg+`` and a git transport (``SCHEMES``), the repository, an optional ``@BRANCH`` after its path (as
pip's ``git+https://...@ref``; default ``main``), and the reference as the fragment: ``#MODEL``,
``#MODEL@VERSION``, ``#MODEL@STAGE`` or ``#MODEL@latest``. Credentials never go in the URI (it is written
into deployment manifests that many people read): git finds them as it always does (credential helpers,
``GIT_ASKPASS``, ``GIT_CONFIG_*`` such as ``http.extraHeader``, ssh keys), and the blob store as for every
backend.

Reading fetches only what the reference needs: the branch's tip commit and trees without blobs, then
registry.yaml, model.yaml, the stage file and the version's manifest (``gitreg.gitfetch``), into a throwaway
repository removed afterwards."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gitreg.credentials import redact
from gitreg.errors import NotFoundError, UsageError
from gitreg.layout import (
    DEFAULT_BRANCH,
    MODELS_DIR,
    NAME,
    REGISTRY_FILE,
    STAGES_DIR,
    model_path,
    stage_path,
    version_path,
    versions_dir,
)
from gitreg.records import VersionRecord
from gitreg.registry import Ref, Registry, parse_version_number
from gitreg.snapshot import CommitSnapshot

#: URI scheme -> the git transport it names. deploy/kserve/cluster-storage-container.yaml lists the same.
SCHEMES = {
    "gitreg+https": "https",
    "gitreg+ssh": "ssh",
    "gitreg+http": "http",
    "gitreg+file": "file",
}
_HINT = "write gitreg+https://HOST/PATH/registry.git[@BRANCH]#MODEL@STAGE (or gitreg+ssh://, gitreg+file://)"
#: A branch as the URI may name it: git's ref rules, narrowed to what needs no quoting anywhere.
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def is_uri(text: str) -> bool:
    """Whether ``text`` is meant as a URI rather than a reference (no reference holds ``://`` or ``+``)."""
    return "://" in text or text[:7].lower() == "gitreg+"


@dataclass(frozen=True)
class RegistryURI:
    """A parsed registry URI: the git URL of the repository, its transport, the branch, the reference."""

    repo: str
    transport: str
    branch: str
    ref: Ref

    @classmethod
    def parse(cls, text: str) -> RegistryURI:
        shown = _shown(text)
        if _CONTROL.search(text):
            raise UsageError(f"{shown!r} is not a registry URI: it holds spaces or control characters", _HINT)
        scheme, _, rest = text.partition("://")
        transport = SCHEMES.get(scheme.lower())
        if transport is None:
            known = ", ".join(f"{s}://" for s in SCHEMES)
            raise UsageError(f"{shown!r} has an unknown scheme {scheme[:20]!r}", f"use {known}")
        try:
            parts = urlsplit(f"{transport}://{rest}")
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise UsageError(f"{shown!r} is not a registry URI: {exc}", _HINT) from None
        if not parts.fragment:
            raise UsageError(f"{shown!r} names no model", "end it with #MODEL@STAGE or #MODEL@VERSION")
        if parts.query:
            raise UsageError(f"{shown!r} has a query, which registry URIs do not take", _HINT)
        ref = _fragment_ref(parts.fragment, shown)
        path, branch = parts.path, DEFAULT_BRANCH
        if "@" in path:
            path, branch = path.rsplit("@", 1)
            if not _valid_branch(branch):
                raise UsageError(
                    f"{shown!r} names the branch {branch[:40]!r}, which is not a branch name", _HINT
                )
        _check_location(transport, parts.netloc, parts.password, parts.hostname, path, shown)
        return cls(f"{transport}://{parts.netloc}{path}", transport, branch, ref)

    def __str__(self) -> str:
        branch = "" if self.branch == DEFAULT_BRANCH else f"@{self.branch}"
        return f"gitreg+{self.repo}{branch}#{self.ref}"


def _shown(text: str) -> str:
    """How messages show a URI: credentials redacted (an error's text reaches CI logs), control characters
    replaced, long ones cut."""
    text = redact(_CONTROL.sub("?", text))
    return text if len(text) <= 120 else text[:100] + "..."


def _fragment_ref(fragment: str, shown: str) -> Ref:
    text = unquote(fragment)
    model, _, selector = text.partition("@")
    if NAME.fullmatch(model) is None:
        raise UsageError(f"{shown!r} names {model[:40]!r}, which is not a model name", _HINT)
    if not selector:
        return Ref(model, None)
    try:
        ref = Ref.parse(text)  # its rules: one @, a version in plain decimal digits
    except UsageError:
        ref = None
    if ref is None or not (ref.version is not None or selector == "latest" or NAME.fullmatch(selector)):
        raise UsageError(
            f"{shown!r} names {selector[:40]!r}, which is not a version, a stage or latest", _HINT
        )
    return ref


def _valid_branch(branch: str) -> bool:
    return (
        _BRANCH.fullmatch(branch) is not None
        and ".." not in branch
        and "//" not in branch
        and not branch.endswith(("/", ".", ".lock"))
        and "/." not in branch
        and "/-" not in branch
    )


def _check_location(
    transport: str, netloc: str, password: str | None, host: str | None, path: str, shown: str
) -> None:
    """Refuse what git could read as an option, or a URL that carries a secret or names no repository."""
    if password is not None:
        raise UsageError(
            f"{shown!r} carries a password, and credentials do not belong in a URI",
            "give git its credentials through a credential helper, GIT_ASKPASS or an ssh key",
        )
    if transport == "file":
        if netloc not in ("", "localhost"):
            raise UsageError(f"{shown!r} names a host, which gitreg+file:// URIs cannot", _HINT)
    elif netloc.startswith("-") or (host or "").startswith("-"):
        raise UsageError(
            f"{shown!r} names a user or host starting with '-', which git would read as an option"
        )
    elif not host:
        raise UsageError(f"{shown!r} names no host", _HINT)
    segments = path.split("/")
    if not path.startswith("/") or len(path) < 2:
        raise UsageError(f"{shown!r} names no repository", _HINT)
    if any(s in (".", "..") or s.startswith("-") for s in segments):
        raise UsageError(f"{shown!r} has a path segment that is '.', '..' or starts with '-'", _HINT)


# --- reading through a URI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """A registry read through a URI, and the version its reference names."""

    registry: Registry
    version: VersionRecord


@contextlib.contextmanager
def opened(uri: str | RegistryURI, timeout: float | None = None) -> Iterator[Resolved]:
    """The registry at the URI's branch, read from a throwaway repository that holds one commit and the
    few files the reference needs, and the version it names; the repository is removed on leaving."""
    from gitreg import gitfetch  # noqa: PLC0415 - only a URI read starts git this way
    from gitreg.gitlite import LiteRepo  # noqa: PLC0415

    parsed = RegistryURI.parse(uri) if isinstance(uri, str) else uri
    limit = timeout if timeout is not None else gitfetch.timeout_from_env()
    with tempfile.TemporaryDirectory(prefix="gitreg-uri-") as tmp:
        git_dir = Path(tmp) / "registry.git"
        remote = gitfetch.RemoteCommit(git_dir, parsed.repo, parsed.transport, limit)
        commit = remote.fetch_tip(parsed.branch)
        ref = parsed.ref
        # one listing of the trees, then the blobs in at most two requests: what resolving the reference
        # reads (registry.yaml, model.yaml, and the version's manifest, the stage file, or every manifest of
        # the model for latest), then the manifest a stage names
        ids = remote.blob_ids(commit, [REGISTRY_FILE, f"{MODELS_DIR}/{ref.model}", STAGES_DIR])
        selector = ref.selector
        number = parse_version_number(selector) if selector else None
        if number is not None:
            first = [version_path(ref.model, number)]
        elif selector is None or selector == "latest":
            prefix = versions_dir(ref.model) + "/"
            first = [p for p in ids if p.startswith(prefix) and p.endswith(".yaml")]
        else:
            first = [stage_path(selector)]
        first += [REGISTRY_FILE, model_path(ref.model)]
        fetched = {ids[p] for p in first if p in ids}
        remote.fetch_blobs(sorted(fetched))
        with LiteRepo(git_dir) as objects:
            registry = Registry(CommitSnapshot(objects, commit))
            if registry.reader.read(REGISTRY_FILE) is None:
                raise NotFoundError(
                    f"{parsed.repo} is not a gitreg registry (no registry.yaml on branch {parsed.branch})",
                    "check the repository and branch the URI names",
                )
            model, number = registry.locate(ref)
            manifest = ids.get(version_path(model, number))
            if manifest is not None and manifest not in fetched:
                remote.fetch_blobs([manifest])
            yield Resolved(registry, registry.version_record(model, number))


def pull(
    uri: str | RegistryURI,
    dest: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    folder: bool = False,
    timeout: float | None = None,
) -> Path:
    """Download and verify the artifact the URI names into ``dest`` (see ``Registry.pull`` for ``dest``,
    ``folder`` and ``force``); where it is. ``timeout`` bounds each git command (default
    ``GITREG_GIT_TIMEOUT`` or 120 seconds)."""
    with opened(uri, timeout) as found:
        return found.registry.pull(found.version, dest, force=force, folder=folder)


__all__ = ["SCHEMES", "RegistryURI", "Resolved", "is_uri", "opened", "pull"]
