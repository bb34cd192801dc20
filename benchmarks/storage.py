"""Claim: gitreg moves an artifact through each blob store at about the speed of that store's own client, and
registers a folder of many small files about as fast as the client uploads it, in memory that does not grow.

    .venv/bin/python benchmarks/storage.py --size-mib 1024 --files 10000 --backends local,s3,azure,gcs

Servers on 127.0.0.1, started here and stopped at the end: moto's S3 server (a child process, not sharing
this interpreter's GIL), Azurite and fake-gcs-server, with their data on disk. Each measurement is one child
process, which reports the time of the operation alone and its peak RSS, in the same rounds as its baseline:

- upload: gitreg's `put_file` (hash, existence check, conditional checksummed upload) against the client's
  `put_file` (s3fs, adlfs, gcsfs; for the local store, copyfile + fsync, as the store makes blobs durable);
- download: `artifact.fetch_file` (streamed, hashed as it arrives) against the client's `get_file`;
- `gitreg register` of a folder of --files files of 1 KiB, first into an empty store, again (the local cache
  of digests known present answers), and again with that cache deleted, against the client's recursive put.
The source file is read before each upload, so that it comes from the page cache."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from _harness import (
    MIB,
    Case,
    Sample,
    in_child,
    measure,
    parser,
    random_file,
    report,
    run_cli,
    session,
    shards,
)

from gitreg.ops.init import init
from testing import servers


def child(op: str, url: str, options: dict[str, Any], *args: str) -> None:
    """In the child process: one operation, then its time in seconds (and what the parent needs)."""
    from gitreg.storage import artifact, open_remote, open_store  # noqa: PLC0415 - the child's imports are measured

    def plain(url: str, options: dict[str, Any]) -> Any:
        """The fsspec file system under the store's driver, for the baselines."""
        driver: Any = open_remote(url, options).driver
        return driver.fs

    local = url.startswith("file:")
    start, out = time.perf_counter(), ""
    if op == "plain-put" and local:
        if Path(args[0]).is_dir():
            shutil.copytree(args[0], args[1])
        else:
            shutil.copyfile(*args)
            with Path(args[1]).open("rb") as dest:
                os.fsync(dest.fileno())
    elif op == "plain-put":
        plain(url, options).put(args[0], args[1], recursive=Path(args[0]).is_dir())
    elif op == "plain-get" and local:
        shutil.copyfile(*args)
    elif op == "plain-get":
        plain(url, options).get_file(*args)
    elif op == "put":
        out = open_store(url, options).put_file(Path(args[0])).digest
    elif op == "get":
        artifact.fetch_file(open_store(url, options), args[0], Path(args[2]), int(args[1]))
    elif op == "register":
        run_cli("-C", args[0], "register", "many", args[1], "--quiet")
    print(out, time.perf_counter() - start)


@dataclass
class Backend:
    name: str
    url: str  # of gitreg's store
    plain: str  # where the plain client writes: a folder, or bucket/prefix
    options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    fs: Any = None  # the parent's client of the server, to empty it between samples

    def __call__(self, op: str, *args: str | Path | int) -> Sample:
        """One operation in a child process: the child's own time for it, and its peak RSS."""
        env = {**os.environ, **self.env}
        return in_child(__file__, op, self.url, json.dumps(self.options), *args, env=env)

    def clean(self, *also: Path) -> None:
        """Empty gitreg's store and the plain client's destination; remove ``also``."""
        for path in also:
            shutil.rmtree(path, ignore_errors=True)
        if self.fs is None:
            for folder in (Path(self.plain), Path(self.url.removeprefix("file://"))):
                shutil.rmtree(folder, ignore_errors=True)
            Path(self.plain).mkdir(parents=True)
            return
        self.fs.invalidate_cache()
        for prefix in (self.plain, self.url.split("://", 1)[1]):
            if self.fs.exists(prefix):
                self.fs.rm(prefix, recursive=True)


def start(name: str, work: Path) -> tuple[Backend, servers.Server | None]:
    if name == "local":
        return Backend(name, (work / "local-store").as_uri(), str(work / "local-plain")), None
    if name == "s3":
        server = servers.start_moto(in_process=False)
    elif name == "azure":
        server = servers.start_azurite(location=work / "azurite")
    else:
        server = servers.start_fake_gcs(root=work / "gcs")
    with server.environment():  # a client that reads its credentials from the environment now
        fs = server.filesystem()
    plain = f"{servers.BUCKET}/bench-plain"
    return Backend(name, server.url("bench-store"), plain, server.options, server.env, fs), server


def bench(backend: Backend, work: Path, big: Path, many: Path, args: argparse.Namespace) -> None:
    plain_big, plain_many = f"{backend.plain}/big.bin", f"{backend.plain}/many"
    out, registry = work / "out.bin", work / "registry"
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "gitreg" / "present"

    def warm() -> None:
        backend.clean()
        with big.open("rb", buffering=0) as src:
            while src.read(MIB):
                pass

    def fresh() -> None:
        backend.clean(registry, cache)
        init(registry, backend.url)

    print(f"\n{backend.name}: upload of {args.size_mib} MiB")
    cases = [
        Case("baseline: client put_file", partial(backend, "plain-put", big, plain_big), warm),
        Case("gitreg put_file", partial(backend, "put", big), warm),
    ]
    report(measure(cases, args.repeat, warmup=False), [cases[0].label], mib=args.size_mib)

    print(f"\n{backend.name}: download of {args.size_mib} MiB")
    digest = backend("put", big).stdout
    backend("plain-put", big, plain_big)
    gone = partial(out.unlink, missing_ok=True)
    cases = [
        Case("baseline: client get_file", partial(backend, "plain-get", plain_big, out), gone),
        Case("gitreg fetch_file", partial(backend, "get", digest, big.stat().st_size, out), gone),
    ]
    report(measure(cases, args.repeat, warmup=False), [cases[0].label], mib=args.size_mib)

    print(f"\n{backend.name}: a folder of {args.files} files of 1 KiB")
    backend.env.update(GITREG_STORAGE_URL=backend.url, GITREG_STORAGE_OPTIONS=json.dumps(backend.options))
    register = partial(backend, "register", registry, many)
    cases = [
        Case("baseline: client put, recursive", partial(backend, "plain-put", many, plain_many), warm),
        Case("gitreg register, first time", register, fresh),
        Case("gitreg register again (digest cache)", register),
        Case("gitreg register again (no cache)", register, partial(shutil.rmtree, cache, ignore_errors=True)),
    ]
    report(measure(cases, args.repeat, warmup=False), [cases[0].label])


def main() -> int:
    p = parser(__doc__, repeat=1)
    p.add_argument("--size-mib", type=int, default=1024, help="size of the transferred file (1024)")
    p.add_argument("--files", type=int, default=10000, help="files in the registered folder (10000)")
    p.add_argument("--backends", default="local,s3,azure,gcs", help="which stores (local,s3,azure,gcs)")
    args = p.parse_args()
    with session(args, f"storage: {args.size_mib} MiB transfers, {args.files} files registered") as work:
        big = random_file(work / "big.bin", args.size_mib * MIB)
        many = shards(work / "many", args.files)
        for name in [n.strip() for n in args.backends.split(",") if n.strip()]:
            (work / name).mkdir()
            backend, server = start(name, work / name)
            try:
                with server.environment() if server else contextlib.nullcontext():
                    bench(backend, work, big, many, args)
            finally:
                if server is not None:
                    server.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), *sys.argv[5:])
    else:
        sys.exit(main())
