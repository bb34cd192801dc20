"""Blob store transfers against local servers that speak each protocol, next to each backend's own plain
client call in the same run, and registering a folder of many small files; peak memory of each.

    .venv/bin/python benchmarks/storage.py [--size-mib 1024] [--files 10000] [--backends local,s3,azure,gcs]

Servers (all on 127.0.0.1, started here, stopped at the end): moto's S3 server as a child process (not in
this interpreter, which would share its GIL with the client being measured), Azurite with its data on disk,
fake-gcs-server with its data on disk. For each backend, one child process per measurement:

- upload: gitreg's ``store.put_file`` (a hash pass, an existence check, then a conditional, checksummed
  single or multipart upload) against the client's ``put_file`` (s3fs, adlfs, gcsfs; for the local store,
  ``shutil.copyfile`` and an fsync, as the local store makes every blob durable);
- download: ``artifact.fetch_file`` (streamed, hashed as it arrives, into a file) against the client's
  ``get_file`` (``shutil.copyfile`` for the local store);
- register a folder of ``--files`` files of 1 KiB: the first time, again unchanged (the local cache of
  digests known present answers), and again with that cache deleted (one existence check per file, made
  concurrently).

Each child prints its wall time and its peak RSS (``ru_maxrss``). The source file is read once before each
upload so that it comes from the page cache."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import MIB, environment_summary, isolate_env, load_average, table, work_folder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing import servers

BACKENDS = ["local", "s3", "azure", "gcs"]


# --- in a child process -------------------------------------------------------------------------------------


def _plain_fs(backend: dict[str, Any]) -> Any:
    from gitreg.storage.remote.driver import open_remote  # noqa: PLC0415 - the child's imports are measured

    return open_remote(backend["url"], dict(backend["options"])).driver.fs


def child(op: str, backend: dict[str, Any], args: list[str]) -> dict[str, Any]:
    """Run one measured operation; return what the parent prints."""
    from gitreg.storage import artifact, open_store  # noqa: PLC0415

    result: dict[str, Any] = {}
    start = time.perf_counter()
    if op == "plain-put":
        src, key = args
        if backend["name"] == "local":
            copy_to = Path(key)
            shutil.copyfile(src, copy_to)
            fd = os.open(copy_to, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        else:
            _plain_fs(backend).put_file(src, key)
    elif op == "gitreg-put":
        (src,) = args
        blob = open_store(backend["url"], backend["options"]).put_file(Path(src))
        result["digest"] = blob.digest
    elif op == "plain-get":
        key, dest = args
        if backend["name"] == "local":
            shutil.copyfile(key, dest)
        else:
            _plain_fs(backend).get_file(key, dest)
    elif op == "gitreg-get":
        digest, size, dest = args
        artifact.fetch_file(open_store(backend["url"], backend["options"]), digest, Path(dest), int(size))
    elif op == "register":
        from gitreg.cli import cli  # noqa: PLC0415

        registry, folder = args
        try:
            cli.main(["-C", registry, "register", "many", folder, "--quiet"], prog_name="gitreg")
        except SystemExit as exc:
            if exc.code:
                raise
    else:  # pragma: no cover
        raise SystemExit(f"unknown operation {op}")
    result["seconds"] = time.perf_counter() - start
    import resource  # noqa: PLC0415

    result["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


# --- in the parent ------------------------------------------------------------------------------------------


def measure(op: str, backend: dict[str, Any], *args: str | Path | int) -> dict[str, Any]:
    env = {**os.environ, **backend["env"]}
    if backend.get("storage_env"):
        env.update(backend["storage_env"])
    done = subprocess.run(
        [sys.executable, __file__, "--child", op, json.dumps(backend), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{op} on {backend['name']} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def make_file(path: Path, size_mib: int) -> None:
    block = bytearray(os.urandom(MIB))
    with path.open("wb", buffering=0) as out:
        for index in range(size_mib):
            block[:8] = index.to_bytes(8, "little")
            out.write(block)


def make_folder(path: Path, count: int) -> None:
    for i in range(count):
        sub = path / f"d{i // 500:03}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05}.bin").write_bytes(os.urandom(1024))


def warm(path: Path) -> None:
    with path.open("rb", buffering=0) as src:
        while src.read(8 * MIB):
            pass


def start(name: str, work: Path) -> tuple[dict[str, Any], servers.Server | None]:
    if name == "local":
        root = work / "local-store"
        return {"name": name, "url": root.as_uri(), "options": {}, "env": {}}, None
    if name == "s3":
        server = servers.start_moto(in_process=False)
    elif name == "azure":
        (work / "azurite").mkdir()
        server = servers.start_azurite(location=work / "azurite")
    else:
        (work / "gcs").mkdir()
        server = servers.start_fake_gcs(root=work / "gcs")
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    backend = {
        "name": name,
        "url": server.url(prefix),
        "options": server.options,
        "env": server.env,
        "bucket": servers.BUCKET,
        "prefix": prefix,
    }
    return backend, server


def rate(size: int, seconds: float) -> str:
    return f"{size / MIB / seconds:.0f}"


def rss(result: dict[str, Any]) -> str:
    return f"{result['rss_kib'] / 1024:.0f}"


def run(argv: argparse.Namespace) -> None:
    names = [n.strip() for n in argv.backends.split(",") if n.strip()]
    with work_folder(argv.workdir, keep=argv.keep) as work:
        isolate_env(work)
        print(environment_summary(work))
        print(load_average())
        big = work / "big.bin"
        make_file(big, argv.size_mib)
        size = big.stat().st_size
        many = work / "many"
        make_folder(many, argv.files)
        transfers: list[list[str]] = []
        registers: list[list[str]] = []
        for name in names:
            backend, server = start(name, work)
            try:
                transfers += transfer_rows(backend, work, big, size)
                registers.append(register_row(backend, work, many))
            finally:
                if server is not None:
                    server.stop()
        print(
            f"\nUpload and download of {argv.size_mib} MiB (time in s, MiB/s, peak RSS in MiB; "
            "ratio = gitreg time / plain client time)"
        )
        print(
            table(
                [
                    "backend",
                    "op",
                    "plain s",
                    "gitreg s",
                    "ratio",
                    "plain MiB/s",
                    "gitreg MiB/s",
                    "plain RSS",
                    "gitreg RSS",
                ],
                transfers,
                right=range(2, 9),
            )
        )
        print(f"\nRegister a folder of {argv.files} files of 1 KiB (time in s, peak RSS in MiB)")
        print(
            table(
                ["backend", "first", "RSS", "again (cache)", "RSS", "again (no cache)", "RSS"],
                registers,
                right=range(1, 7),
            )
        )
        print(f"\n{load_average()}")


def transfer_rows(backend: dict[str, Any], work: Path, big: Path, size: int) -> list[list[str]]:
    name = backend["name"]
    if name == "local":
        plain_key = str(work / "plain-copy.bin")
    else:
        plain_key = f"{backend['bucket']}/{backend['prefix']}-plain/big.bin"
    warm(big)
    plain_put = measure("plain-put", backend, big, plain_key)
    warm(big)
    gitreg_put = measure("gitreg-put", backend, big)
    out = work / "out.bin"
    plain_get = measure("plain-get", backend, plain_key, out)
    out.unlink()
    gitreg_get = measure("gitreg-get", backend, gitreg_put["digest"], size, out)
    out.unlink()
    if name == "local":
        Path(plain_key).unlink()
    rows = []
    for op, plain, ours in (("upload", plain_put, gitreg_put), ("download", plain_get, gitreg_get)):
        rows.append(
            [
                name,
                op,
                f"{plain['seconds']:.2f}",
                f"{ours['seconds']:.2f}",
                f"{ours['seconds'] / plain['seconds']:.2f}",
                rate(size, plain["seconds"]),
                rate(size, ours["seconds"]),
                rss(plain),
                rss(ours),
            ]
        )
    return rows


def register_row(backend: dict[str, Any], work: Path, many: Path) -> list[str]:
    from gitreg.ops.init import init  # noqa: PLC0415

    name = backend["name"]
    registry = work / f"registry-{name}"
    url = backend["url"] + ("" if name == "local" else "-register")
    init(registry, url)
    backend = {
        **backend,
        "storage_env": {"GITREG_STORAGE_URL": url, "GITREG_STORAGE_OPTIONS": json.dumps(backend["options"])},
    }
    first = measure("register", backend, registry, many)
    again = measure("register", backend, registry, many)
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "gitreg" / "present", ignore_errors=True)
    cold = measure("register", backend, registry, many)
    return [
        name,
        f"{first['seconds']:.2f}",
        rss(first),
        f"{again['seconds']:.2f}",
        rss(again),
        f"{cold['seconds']:.2f}",
        rss(cold),
    ]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        op, backend = sys.argv[2], json.loads(sys.argv[3])
        print(json.dumps(child(op, backend, sys.argv[4:])))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="Size of the transferred file (1024).")
    parser.add_argument("--files", type=int, default=10000, help="Files in the registered folder (10000).")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="Which stores (local,s3,azure,gcs).")
    parser.add_argument("--workdir", type=Path, help="Parent of the work folder (default: the temp folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
