"""`gitreg pull gitreg+file://...#model@stage DEST` of a large artifact, against a plain copy + SHA-256 of the
same file: what reading the registry by URI (a throwaway repository, a shallow blob-less fetch, one more
fetch for the few files the reference needs) and verifying as it downloads add to moving the bytes.

Cases, interleaved (each removes DEST first): the URI pull as a CLI process and in process
(``gitreg.uri.pull``), the same version pulled from a checkout (``gitreg pull REF DEST``), the URI read alone
(resolving the version, no download), and a pull again onto a DEST that already holds the artifact (hashed,
not downloaded); against read + SHA-256 + write of the stored blob (no fsync: pull does not fsync either),
and `gitreg --version` (start-up).

    .venv/bin/python benchmarks/pull_uri.py --size-mib 100 --repeat 5
"""

from __future__ import annotations

import json
import shutil
import sys
from functools import partial
from pathlib import Path

from _harness import (
    MIB,
    Case,
    gitreg_executable,
    hash_copy,
    load_average,
    measure,
    parser,
    random_file,
    report,
    run,
    session,
)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main() -> int:
    args_parser = parser(__doc__, repeat=5)
    args_parser.add_argument("--size-mib", type=int, default=100, help="artifact size in MiB (100)")
    args = args_parser.parse_args()
    with session(args, f"pull by URI, {args.size_mib} MiB artifact, local store") as work:
        from gitreg import uri as uris  # noqa: PLC0415 - after the session points XDG_* at the work folder
        from gitreg.storage import LocalStore  # noqa: PLC0415

        exe = gitreg_executable()
        registry, blobs = work / "registry", work / "blobs"
        run(exe, "init", registry, "--storage", blobs.as_uri())
        artifact = random_file(work / "model.bin", args.size_mib * MIB)
        run(exe, "register", "big", artifact, cwd=registry)
        (registry / "stages" / "production.yaml").write_text("big: 1\n")
        run("git", "-C", registry, "add", "--all")
        run("git", "-C", registry, "commit", "--quiet", "-m", "production")
        bare = work / "registry.git"
        run("git", "clone", "--quiet", "--bare", registry, bare)
        run("git", "-C", bare, "config", "uploadpack.allowFilter", "true")
        uri = f"gitreg+{bare.as_uri()}#big@production"
        digest = json.loads(run(exe, "show", "big@1", "--json", cwd=registry))["artifact"]["digest"]
        blob = LocalStore(blobs).path(digest)
        dest, again = work / "dest", work / "again"
        run(exe, "pull", uri, again)  # the idempotent case's DEST, already in place

        def pull_in_process() -> None:
            uris.pull(uri, dest, folder=True)

        def read_only() -> None:
            with uris.opened(uri) as found:
                assert found.version.ref == "big@1"

        cases = [
            Case(
                "gitreg pull URI DEST (process)",
                partial(run, exe, "pull", "-q", uri, dest),
                partial(remove, dest),
            ),
            Case("gitreg.uri.pull(URI, DEST) (in process)", pull_in_process, partial(remove, dest)),
            Case(
                "gitreg pull REF DEST in a checkout (process)",
                partial(run, exe, "pull", "-q", "big@production", dest, cwd=registry),
                partial(remove, dest),
            ),
            Case("the URI read alone: resolve, no download (in process)", read_only),
            Case(
                "gitreg pull URI DEST, already there (process)", partial(run, exe, "pull", "-q", uri, again)
            ),
            Case(
                "baseline: read + sha256 + write",
                partial(hash_copy, blob, dest, False),
                partial(remove, dest),
            ),
            Case("baseline: gitreg --version", partial(run, exe, "--version")),
        ]
        timings = measure(cases, args.repeat)
        report(timings, ["baseline: read + sha256 + write"], mib=args.size_mib)
        print(f"\n{load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
