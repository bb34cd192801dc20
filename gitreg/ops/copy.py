"""Copying a version from one registry to another (a team registry to the company one): its blobs go to the
destination's store (only those it lacks or holds damaged, each verified on the way; a blob the destination
has is trusted when its size is right, and with ``--verify`` only once its bytes hash to its digest), and its
manifest is committed on a new branch ``gitreg/copy/<model>-<version>`` of the destination, ready for a pull
request there, by the path every proposal takes (``propose``). The version takes the destination's next
number; ``lineage.parent`` is dropped (it numbers a version of the source).

The destination's blob store is the one its registry.yaml names: ``GITREG_STORAGE_URL`` and
``GITREG_STORAGE_OPTIONS`` apply to the source only. A destination given as a git URL is fetched shallowly
into a temporary repository, and the branch is pushed back to it."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitreg import yamlio
from gitreg.errors import ConflictError, GitregError, IntegrityError
from gitreg.gitrepo import GitRepo
from gitreg.layout import DEFAULT_BRANCH, model_path, version_path
from gitreg.manifest import ModelVersion
from gitreg.ops.propose import BaseRef, Change, propose, trailers
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.storage import BlobStore, open_store
from gitreg.storage import artifact as artifacts
from gitreg.storage.protocol import VerifyingReader, sizes


@dataclass(frozen=True)
class CopyResult:
    source: str  # MODEL@V in the source
    ref: str  # MODEL@V in the destination
    branch: str
    commit: str
    blobs_copied: int
    bytes_copied: int
    pushed_to: str | None


def is_git_url(text: str) -> bool:
    return "://" in text or re.match(r"^[\w.-]+@[\w.-]+:", text) is not None


def copy_version(source: Registry, ref: str, destination: str, verify: bool = False) -> CopyResult:
    version = source.resolve(ref)
    if is_git_url(destination):
        with tempfile.TemporaryDirectory(prefix="gitreg-copy-") as tmp:
            repo = GitRepo.init_bare(Path(tmp) / "registry.git")
            fetched = repo.fetch_shallow(destination, "HEAD", "refs/gitreg/base")
            dest = Registry(CommitSnapshot(repo, fetched), repo, None)
            result = _copy(source, version, dest, repo, fetched, destination, verify)
            repo.push_new_branch(destination, result.branch)
            return result
    repo = GitRepo.open(Path(destination))
    base = repo.rev_parse("refs/heads/main") or repo.head()
    if base is None:
        raise GitregError(f"{destination} has no commits", "create it with gitreg init")
    dest = Registry.open(destination, ref=base)
    return _copy(source, version, dest, repo, base, None, verify)


def _copy(
    source: Registry,
    version: ModelVersion,
    dest: Registry,
    repo: GitRepo,
    base: str,
    url: str | None,
    verify: bool,
) -> CopyResult:
    where = url or str(dest.workdir)
    config = dest.config  # raises if the destination is not a registry
    model = version.model
    numbers = dest.version_numbers(model) if dest.has_model(model) else []
    for number in numbers:
        if dest.version(model, number).artifact.digest == version.artifact.digest:
            raise ConflictError(
                f"{where} already has {model}@{number} with the artifact of {version.ref}",
                "promote that version there instead",
            )
    number = max(numbers, default=0) + 1
    branch = f"gitreg/copy/{model}-{number}"
    if repo.rev_parse(f"refs/heads/{branch}") is not None:
        raise ConflictError(f"branch {branch} already exists in {where}", "merge or delete it first")
    if url is not None and "://" not in config.storage.url and not config.storage.url.startswith(("/", "~")):
        raise GitregError(
            f"the registry at {url} keeps its blobs at the relative path {config.storage.url!r}",
            "clone it and pass the clone's path to --to-registry",
        )
    dest_store = open_store(config.storage.url, dict(config.storage.options), dest.workdir)
    art = version.artifact
    size = art.size if art.type == "file" else None
    copied, total = copy_blobs(source.store, dest_store, art.digest, art.type, size, verify)

    data = version.to_yaml_data()
    data["version"] = number
    data.get("lineage", {}).pop("parent", None)
    copy = ModelVersion.model_validate(data)
    files: dict[str, bytes | None] = {version_path(model, number): yamlio.dump(copy.to_yaml_data()).encode()}
    if not dest.has_model(model):
        info = source.snapshot.read(model_path(model))
        if info is not None:
            files[model_path(model)] = info
    change = Change(
        branch=branch,
        files=files,
        subject=f"Copy {version.ref} as {copy.ref}",
        trailers=trailers(model, number, digest=version.artifact.digest, copied_from=version.ref),
    )
    proposed = propose(repo, change, BaseRef(base, DEFAULT_BRANCH, url or DEFAULT_BRANCH))
    return CopyResult(version.ref, copy.ref, branch, proposed.commit, copied, total, url)


def copy_blobs(
    src: BlobStore, dst: BlobStore, digest: str, kind: str, size: int | None = None, verify: bool = False
) -> tuple[int, int]:
    """Copy an artifact's blobs that ``dst`` lacks or holds damaged (a tree's files first, its listing
    last); each is verified as it is read from ``src``. A blob ``dst`` already has is trusted only if its
    size is right and, with ``verify``, if it hashes to its digest (it is downloaded); otherwise it is
    deleted and copied again. ``size`` is a single file's recorded size. Returns (blobs copied, bytes)."""
    needed: dict[str, int | None] = {digest: size}
    listing = b""
    if kind == "tree":
        listing = artifacts.read_blob(src, digest)
        entries = artifacts.parse_tree_listing(listing, digest)
        needed = {**{e.digest: e.size for e in entries}, digest: len(listing)}
    present = sizes(dst, list(needed))
    copied = total = 0
    with tempfile.TemporaryDirectory(prefix="gitreg-copy-") as tmp:
        for d, want in needed.items():
            if present[d] is not None:
                if _intact(dst, d, present[d], want, verify):
                    continue
                dst.delete(d)  # damaged: the conditional writes below would keep it otherwise
            if d == digest and kind == "tree":
                dst.put_bytes(listing)
                copied, total = copied + 1, total + len(listing)
                continue
            staged = Path(tmp) / d.removeprefix("sha256:")
            artifacts.fetch_file(src, d, staged, want)
            blob = dst.put_file(staged)
            staged.unlink()
            if blob.digest != d:  # pragma: no cover - fetch_file verified it
                raise IntegrityError(d, blob.digest)
            copied, total = copied + 1, total + blob.size
    return copied, total


def _intact(store: BlobStore, digest: str, stored: int | None, size: int | None, verify: bool) -> bool:
    """Whether a blob the destination has can be trusted: the recorded size, and with ``verify`` the
    digest of its bytes."""
    if size is not None and stored != size:
        return False
    if not verify:
        return True
    try:
        with store.open(digest) as stream:
            for _ in VerifyingReader(stream, digest, size).chunks():
                pass
    except IntegrityError:
        return False
    return True


__all__ = ["CopyResult", "copy_blobs", "copy_version", "is_git_url"]
