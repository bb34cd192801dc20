"""``--check-artifacts``: every referenced blob is in the store with the recorded size (and, for a tree,
every file its listing names). The only rule that touches the blob store, so it is not among the pure rules:
the runner hands it to ``validate`` when asked."""

from __future__ import annotations

from gitreg.errors import GitregError
from gitreg.layout import VERSION_FILE
from gitreg.manifest import ModelVersion
from gitreg.storage import BlobStore
from gitreg.storage import artifact as artifacts
from gitreg.validate import FileRule
from gitreg.validate.findings import Finding
from gitreg.validate.view import View


def store_rule(store: BlobStore) -> FileRule:
    """The ``artifact`` rule against ``store``, as an extra file rule for ``validate``."""

    def check(view: View, path: str) -> list[Finding]:
        if not (VERSION_FILE.match(path) and path.endswith(".yaml")):
            return []
        version = view.parse(path, ModelVersion)
        return [] if version is None else check_artifact(view, path, version, store)

    return check


def check_artifact(view: View, path: str, version: ModelVersion, store: BlobStore) -> list[Finding]:
    line, col = view.position(path, ("artifact", "digest"))
    art = version.artifact

    def finding(message: str) -> Finding:
        return Finding(path, line, col, "artifact", message)

    try:
        size = store.size(art.digest)
        if size is None:
            return [
                finding(f"{art.digest} is not in the blob store {store.url}: register the artifact again")
            ]
        if art.type == "file":
            if size != art.size:
                return [
                    finding(f"{art.digest} is {size} bytes in the store, but the manifest says {art.size}")
                ]
            return []
        entries = artifacts.tree_entries(store, art.digest)
    except GitregError as exc:
        return [finding(str(exc))]
    problems = []
    total = sum(e.size for e in entries)
    if total != art.size:
        problems.append(finding(f"tree {art.digest} holds {total} bytes, but the manifest says {art.size}"))
    for entry in entries:
        try:
            stored = store.size(entry.digest)
        except GitregError as exc:
            problems.append(finding(str(exc)))
            continue
        if stored is None:
            problems.append(
                finding(f"{entry.path} ({entry.digest}) of tree {art.digest} is not in the blob store")
            )
        elif stored != entry.size:
            problems.append(
                finding(f"{entry.path} ({entry.digest}) is {stored} bytes in the store, not {entry.size}")
            )
    return problems
