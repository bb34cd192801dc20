"""Claim: gitreg moves an artifact to and from an OCI registry at about the speed of skopeo moving the same
bytes, and registers a folder of many small files there in memory that does not grow with the file size.

    .venv/bin/python benchmarks/oci.py --size-mib 1024 --files 10000 --repeat 2

A local registry (Debian's docker-registry, distribution 2.8, on 127.0.0.1, its storage in the work folder),
started here and stopped at the end. Each measurement is one child process, which reports the time of the
operation alone and its peak RSS, in the same rounds as its baseline:

- upload: gitreg's ``put_file`` to ``oci://`` (hash, HEAD, chunked upload of 16 MiB PATCHes) against
  ``skopeo copy --preserve-digests dir:... docker://...`` of a one-layer image whose layer is the same file
  (``--preserve-digests``: skopeo sends the layer as it is, not gzipped); before each sample the blob is
  deleted from every repository that had it, so that neither side can skip or mount it;
- download: ``artifact.fetch_file`` (streamed GET, hashed as it arrives) against ``skopeo copy docker://...
  dir:...`` of that image;
- ``gitreg register`` of a folder of --files files of 1 KiB, first into an empty repository, again (the
  local digest cache answers), again with that cache deleted, against registering it into a local store (first
  time). skopeo is no baseline here: copying a ``dir:`` image of the same files, one layer each, takes it
  about 100 ms per layer (30 s for 300 files), so gitreg would look many times faster for the wrong reason."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from functools import partial
from pathlib import Path

from _harness import MIB, Case, in_child, measure, parser, random_file, report, run_cli, session, shards

from gitreg.ops.init import init
from testing.oci_registry import start_registry

SKOPEO = ("/usr/bin/skopeo", "--insecure-policy")


def child(op: str, *args: str) -> None:
    """In the child process: one operation, then its time in seconds (and what the parent needs)."""
    start, out = time.perf_counter(), ""
    if op == "skopeo":
        subprocess.run([*SKOPEO, *args], check=True, capture_output=True)
    elif op == "put":
        from gitreg.storage import open_store  # noqa: PLC0415 - the child's imports are measured

        out = open_store(args[0]).put_file(Path(args[1])).digest
    elif op == "get":
        from gitreg.storage import artifact, open_store  # noqa: PLC0415

        artifact.fetch_file(open_store(args[0]), args[1], Path(args[3]), int(args[2]))
    elif op == "register":
        run_cli("-C", args[0], "register", "many", args[1], "--quiet")
    print(out, time.perf_counter() - start)


#: One operation in a child process (``--child`` below): its own time, peak RSS and what it printed.
sample = partial(in_child, __file__)


def dir_image(folder: Path, files: list[Path]) -> None:
    """A skopeo ``dir:`` image whose layers are ``files`` as they are (raw bytes, any media type)."""
    folder.mkdir(parents=True)
    layers = []
    for path in files:
        digest = hashlib.sha256(path.read_bytes() if path.stat().st_size < MIB else b"").hexdigest()
        if path.stat().st_size >= MIB:
            h = hashlib.sha256()
            with path.open("rb") as src:
                while chunk := src.read(MIB):
                    h.update(chunk)
            digest = h.hexdigest()
        target = folder / digest
        if not target.exists():
            os.link(path, target)
        layers.append(
            {
                "mediaType": "application/octet-stream",
                "digest": f"sha256:{digest}",
                "size": path.stat().st_size,
            }
        )
    config = b"{}"
    (folder / hashlib.sha256(config).hexdigest()).write_bytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.bench",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": f"sha256:{hashlib.sha256(config).hexdigest()}",
            "size": 2,
        },
        "layers": layers,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "version").write_text("Directory Transport Version: 1.1\n")


def main() -> int:
    p = parser(__doc__, repeat=2)
    p.add_argument("--size-mib", type=int, default=1024, help="size of the transferred file (1024)")
    p.add_argument("--files", type=int, default=10000, help="files in the registered folder (10000)")
    args = p.parse_args()
    with session(args, f"oci: {args.size_mib} MiB transfers, {args.files} files registered") as work:
        os.environ.update(GITREG_OCI_INSECURE="1", DOCKER_CONFIG=str(work / "docker"))
        big = random_file(work / "big.bin", args.size_mib * MIB)
        many = shards(work / "many", args.files)
        registry = start_registry(work / "registry")
        try:
            bench(registry.host, work, big, many, args)
        finally:
            registry.stop()
    return 0


def bench(host: str, work: Path, big: Path, many: Path, args: object) -> None:
    size_mib, files, repeat = args.size_mib, args.files, args.repeat  # type: ignore[attr-defined]
    image = work / "image"
    dir_image(image, [big])
    used: list[str] = []

    def repo() -> str:
        used.append(f"bench/up-{uuid.uuid4().hex[:8]}")
        return used[-1]

    def forget() -> None:
        """Delete the big blob from every repository, so the next upload sends it again."""
        from gitreg.storage.oci.client import Client  # noqa: PLC0415

        digest = "sha256:" + (image / "manifest.json").read_text().split('"sha256:')[2][:64]
        for name in used:
            Client(host, name, insecure=True).delete_blob(digest)

    skopeo_up = lambda: sample(  # noqa: E731
        "skopeo",
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        f"dir:{image}",
        f"docker://{host}/{repo()}:v1",
    )
    gitreg_up = lambda: sample("put", f"oci://{host}/{repo()}", big)  # noqa: E731
    print(f"\nupload of {size_mib} MiB")
    cases = [
        Case("baseline: skopeo copy dir: -> registry", skopeo_up, forget),
        Case("gitreg put_file", gitreg_up, forget),
    ]
    report(measure(cases, repeat, warmup=False), [cases[0].label], mib=size_mib)

    print(f"\ndownload of {size_mib} MiB")
    sample(
        "skopeo",
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        f"dir:{image}",
        f"docker://{host}/bench/down:v1",
    )
    digest = sample("put", f"oci://{host}/bench/down", big).stdout
    out, pulled = work / "out.bin", work / "pulled"

    def gone() -> None:
        out.unlink(missing_ok=True)
        shutil.rmtree(pulled, ignore_errors=True)

    cases = [
        Case(
            "baseline: skopeo copy registry -> dir:",
            partial(
                sample,
                "skopeo",
                "copy",
                "--src-tls-verify=false",
                f"docker://{host}/bench/down:v1",
                f"dir:{pulled}",
            ),
            gone,
        ),
        Case(
            "gitreg fetch_file",
            partial(sample, "get", f"oci://{host}/bench/down", digest, big.stat().st_size, out),
            gone,
        ),
    ]
    report(measure(cases, repeat, warmup=False), [cases[0].label], mib=size_mib)

    print(f"\na folder of {files} files of 1 KiB")
    registry = work / "registry-repo"
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "gitreg" / "present"

    def fresh() -> None:
        shutil.rmtree(registry, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        init(registry, f"oci://{host}/bench/many-{uuid.uuid4().hex[:8]}")

    local = work / "local-repo"

    def fresh_local() -> None:
        shutil.rmtree(local, ignore_errors=True)
        shutil.rmtree(work / "local-blobs", ignore_errors=True)
        init(local, (work / "local-blobs").as_uri())

    register = partial(sample, "register", registry, many)
    cases = [
        Case("baseline: register into a local store", partial(sample, "register", local, many), fresh_local),
        Case("gitreg register, first time", register, fresh),
        Case("gitreg register again (digest cache)", register),
        Case("gitreg register again (no cache)", register, partial(shutil.rmtree, cache, ignore_errors=True)),
    ]
    report(measure(cases, repeat, warmup=False), [cases[0].label])


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], *sys.argv[3:])
    else:
        sys.exit(main())
