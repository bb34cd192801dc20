"""What ``history`` and ``audit`` learnt on earlier walks of main, kept under ``.git/gitreg/cache/``.

Every entry is keyed by git object ids, so it is a fact about content: what a stage file's entries became
between two blobs, the validator's verdict on a commit (a commit id pins its tree and its whole first-parent
history, which is all a verdict reads), the artifact a version file names. Rewriting history makes new ids;
an old entry is then never asked for again, so it cannot lie about the new history. The key of the whole
file also names this gitreg and the YAML and pydantic versions whose results it holds: any other starts
over.

The file is an SQLite database (write-ahead log), read a window of keys at a time and written a few
thousand rows per transaction (memory does not grow with the history; a reader never sees half a write),
on a thread of its own (``gitreg.walk_cache_writer``: the walk does not wait for SQLite).
It is a cache, never a source: a file that is not exactly what this module writes (another schema, a
symlink, a corrupt page, a value of the wrong shape) is ignored and replaced, and when it cannot be used at
all the walk simply computes everything."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sqlite3
import stat
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path

from gitreg.layout import DIGEST, MAX_SIZE, NAME
from gitreg.walk_cache_writer import JSON_WORKS, CacheWriter, encode, storable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

#: The file's format: bumped whenever what an entry means changes.
FORMAT = "gitreg-walk-cache 2"
FILE_NAME = "walk.sqlite"
#: Keys asked of SQLite in one query.
_CHUNK = 500
#: Rows held at most before they are written (one transaction each time): a walk then waits for the writer.
_PENDING_ROWS = 4096
#: Rows handed to the writer as soon as it is idle: it works beside the walk instead of after it (a first
#: walk of 5,000 changes otherwise hands over its first batch near its end, and waits for all of it at
#: ``close``), while a busy writer's rows gather into fewer, larger transactions (each rewrites the pages it
#: touches: a first audit of 5,000 changes took about 1,070 ms of CPU handing over 512 rows at a time, 1,010
#: at 2,048 or 4,096).
_EAGER_ROWS = 2048
#: SQLite's files beside the database: anything there but a plain file is removed before it opens.
_BESIDE = ("-journal", "-wal", "-shm")
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: The tables (rows kept in their keys' order, WITHOUT ROWID: a row is one insertion, not a row and an index
#: entry; a first walk writes thousands).
_SCHEMA = {
    "meta": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "transitions": "CREATE TABLE transitions (old TEXT NOT NULL, new TEXT NOT NULL, delta TEXT NOT NULL, "
    "size INTEGER, PRIMARY KEY (old, new)) WITHOUT ROWID",
    "verdicts": "CREATE TABLE verdicts (commit_id TEXT PRIMARY KEY, verdict TEXT NOT NULL) WITHOUT ROWID",
    "artifacts": "CREATE TABLE artifacts (blob TEXT PRIMARY KEY, digest TEXT, size INTEGER) WITHOUT ROWID",
}

# SQL (named, so that no statement reads like a command line to tests/test_git_boundary.py)
_UNTRUSTED = "PRAGMA trusted_schema = OFF"
_WAL = "PRAGMA journal_mode = WAL"
_UNSYNCED = "PRAGMA synchronous = OFF"
_OBJECTS = "SELECT type, name, sql FROM sqlite_master"
_SET_FORMAT = "INSERT INTO meta VALUES ('format', ?)"
_FORMAT = "SELECT value FROM meta WHERE key = 'format'"

_SELECT_TRANSITIONS = "SELECT old, new, delta, size FROM transitions WHERE "
_SELECT_VERDICTS = "SELECT commit_id, verdict FROM verdicts WHERE commit_id IN "
_SELECT_ARTIFACTS = "SELECT blob, digest, size FROM artifacts WHERE blob IN "
_ANY_ROWS = (
    "SELECT EXISTS (SELECT 1 FROM transitions) OR EXISTS (SELECT 1 FROM verdicts)"
    " OR EXISTS (SELECT 1 FROM artifacts)"
)
_INSERT = {
    "transitions": "INSERT OR REPLACE INTO transitions VALUES (?, ?, ?, ?)",
    "verdicts": "INSERT OR REPLACE INTO verdicts VALUES (?, ?)",
    "artifacts": "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?)",
}

Delta = tuple[tuple[str, int | None, int | None], ...]


class Transition(tuple[Delta, int | None]):
    """A stage file's change from one blob to another: the entries that differ (sorted by model), and the
    upper bound of the new file's size when it is in plain lines (else None). A pair (a named tuple would
    load ``typing`` on every history)."""

    __slots__ = ()

    def __new__(cls, delta: Delta, plain_size: int | None) -> Transition:
        return tuple.__new__(cls, (delta, plain_size))

    @property
    def delta(self) -> Delta:
        return self[0]

    @property
    def plain_size(self) -> int | None:
        return self[1]


class WalkCache:
    """The cache of one repository (``open`` it; ``None`` where there is none to use)."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None = None) -> None:
        self._db = connection
        #: Nothing to find: a new cache is not asked (a walk's first run fills it and looks nothing up).
        self._empty = self._select(_ANY_ROWS, ()) == [(0,)]
        #: Rows not yet handed to the writer, by table (a transition's delta as it is: encoded with the rest).
        self._pending: dict[str, list[tuple[object, ...]]] = {table: [] for table in _INSERT}
        self._transitions, self._verdicts, self._artifacts = self._pending.values()
        self._count = 0  # rows pending
        self._flush_at = _EAGER_ROWS  # rows pending when the writer is next asked whether it is idle
        #: Writes on a thread of their own (``gitreg.walk_cache_writer``) where SQLite reads JSON; else here.
        json_works = path is not None and self._select(JSON_WORKS, ()) == [(1,)]
        self._writer = CacheWriter(path) if path is not None and json_works else None
        self.hits = 0  # entries found (for tests and benchmarks)

    @classmethod
    def open(cls, folder: Path, environment: str) -> WalkCache | None:
        """The cache in ``folder`` (created if need be) for results made under ``environment``; None if it
        cannot be used (a read-only repository, a symlink on the way, SQLite refusing it twice)."""
        try:
            _real_folders(folder)
        except OSError:
            return None
        path = folder / FILE_NAME
        for _attempt in range(2):
            connection = _connect(path, environment)
            if connection is not None:
                return cls(connection, path)
            if not _replace_with_empty(path):
                return None
        return None

    # --- reading --------------------------------------------------------------------------------------

    def transitions(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Transition]:
        found: dict[tuple[str, str], Transition] = {}
        if self._empty:
            return found
        wanted = sorted(set(pairs))
        for chunk in _chunks(wanted):
            where = " OR ".join(["(old = ? AND new = ?)"] * len(chunk))
            rows = self._select(_SELECT_TRANSITIONS + where, [oid for pair in chunk for oid in pair])
            for old, new, delta, size in rows:
                value = _transition(delta, size)
                if value is not None and isinstance(old, str) and isinstance(new, str):
                    found[(old, new)] = value
        self.hits += len(found)
        return found

    def verdicts(self, commits: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        if self._empty:
            return found
        for chunk in _chunks(sorted(set(commits))):
            for commit, verdict in self._select(_SELECT_VERDICTS + _marks(len(chunk)), chunk):
                if isinstance(commit, str) and isinstance(verdict, str) and _verdict(verdict):
                    found[commit] = verdict
        self.hits += len(found)
        return found

    def artifacts(self, blobs: Iterable[str]) -> dict[str, tuple[str, int] | None]:
        """{version file blob: (digest, size) it names, or None when it is not a valid version}."""
        found: dict[str, tuple[str, int] | None] = {}
        if self._empty:
            return found
        for chunk in _chunks(sorted(set(blobs))):
            for blob, digest, size in self._select(_SELECT_ARTIFACTS + _marks(len(chunk)), chunk):
                if not isinstance(blob, str):
                    continue
                if digest is None and size is None:
                    found[blob] = None
                elif (
                    isinstance(digest, str) and DIGEST.fullmatch(digest) and type(size) is int and _size(size)
                ):
                    found[blob] = (digest, size)
        self.hits += len(found)
        return found

    def _select(self, sql: str, args: Sequence[str]) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error:
            return []  # a page that went bad since it opened: as if nothing were known

    # --- writing --------------------------------------------------------------------------------------

    def add_transition(self, old: str, new: str, value: Transition) -> None:
        self._transitions.append((old, new, value.delta, value.plain_size))
        self._count += 1
        if self._count >= self._flush_at:
            self._hand_over()

    def add_verdict(self, commit: str, verdict: str) -> None:
        self._verdicts.append((commit, verdict))
        self._count += 1
        if self._count >= self._flush_at:
            self._hand_over()

    def add_artifact(self, blob: str, artifact: tuple[str, int] | None) -> None:
        self._artifacts.append((blob, *(artifact or (None, None))))
        self._count += 1
        if self._count >= self._flush_at:
            self._hand_over()

    def _hand_over(self) -> None:
        """Flush if the writer is idle or the rows pending are at their most; else ask again a bit later."""
        if self._count >= _PENDING_ROWS or (self._writer is not None and not self._writer.busy()):
            self.flush()
        else:
            self._flush_at = min(self._count + _EAGER_ROWS // 2, _PENDING_ROWS)

    def flush(self) -> None:
        """Write what was added since the last flush, in one transaction (nothing, if it fails), on the
        writer's thread where there is one (``close`` waits for it)."""
        if self._writer is not None:
            self._writer.write(self._take())
        else:
            self._write_here()

    def close(self) -> None:
        if self._writer is not None:
            batch = self._take()
            with suppress(sqlite3.Error):
                self._db.close()  # first: the writer's connection, the last one, writes the log back
            self._writer.close(batch)
            return
        self._write_here()
        with suppress(sqlite3.Error):
            self._db.close()

    def _take(self) -> dict[str, str]:
        """The rows pending, as the writer takes them ({table: JSON text}), and none pending any more."""
        batch = {table: encode(rows) for table, rows in self._pending.items() if rows}
        for rows in self._pending.values():
            rows.clear()
        self._count = 0
        self._flush_at = _EAGER_ROWS
        return batch

    def _write_here(self) -> None:
        """``flush`` where SQLite reads no JSON: a row at a time, on this thread."""
        rows = {
            table: [row for row in found if _key(row[0]) and storable(row)]
            for table, found in self._pending.items()
        }
        rows["transitions"] = [(old, new, json.dumps(d), size) for old, new, d, size in rows["transitions"]]
        for found in self._pending.values():
            found.clear()
        self._count = 0
        self._flush_at = _EAGER_ROWS
        try:
            with self._db:
                for table, found in rows.items():
                    if found:
                        self._db.executemany(_INSERT[table], found)
        except sqlite3.Error:
            pass  # locked by another gitreg, a full disk, a read-only file: the next walk computes it again


def _key(value: object) -> bool:
    return isinstance(value, str) and _OID.fullmatch(value) is not None


def _chunks(keys: list[str] | list[tuple[str, str]]) -> Iterable[list[str]]:
    step = _CHUNK // 2 if keys and isinstance(keys[0], tuple) else _CHUNK
    for start in range(0, len(keys), step):
        yield keys[start : start + step]  # type: ignore[misc]


def _marks(count: int) -> str:
    return f"({','.join('?' * count)})"


def _size(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_SIZE


def _verdict(value: object) -> bool:
    return isinstance(value, str) and (value == "pass" or value.startswith("fail: "))


def _transition(delta: object, size: object) -> Transition | None:
    """The transition a row holds, or None if the row is not one this module writes."""
    if not (size is None or (type(size) is int and size >= 0)) or not isinstance(delta, str):
        return None
    try:
        items = json.loads(delta)
    except ValueError:
        return None
    changes = []
    if not isinstance(items, list):
        return None
    for item in items:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
            return None
        name, old, new = item
        if not NAME.fullmatch(name) or not all(v is None or (type(v) is int and v > 0) for v in (old, new)):
            return None
        changes.append((name, old, new))
    if changes != sorted(changes, key=lambda c: c[0]) or len({c[0] for c in changes}) != len(changes):
        return None
    return Transition(tuple(changes), size if isinstance(size, int) else None)


def _real_folders(folder: Path) -> None:
    """Make ``folder`` (and its parents below the git folder), refusing any that is not a real folder."""
    for part in (folder.parent, folder):
        with suppress(FileExistsError):
            part.mkdir(mode=0o755)
        if not stat.S_ISDIR(part.lstat().st_mode):
            raise NotADirectoryError(str(part))


def _connect(path: Path, environment: str) -> sqlite3.Connection | None:
    """A connection to the cache at ``path`` if it is one this module wrote for ``environment`` (a new
    empty file becomes one); None otherwise."""
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return None
        for suffix in _BESIDE:  # SQLite would follow a link there
            beside = path.with_name(FILE_NAME + suffix)
            if beside.is_symlink() or (beside.exists() and not beside.is_file()):
                beside.unlink()
        connection = sqlite3.connect(path, timeout=2, isolation_level="DEFERRED")
    except (OSError, sqlite3.Error):
        return None
    try:
        connection.execute(_UNTRUSTED)
        # a cache needs no durability: nothing waits for the disk. A crash of gitreg loses at most the last
        # writes; one of the system may leave pages of an older state, whose rows are still true (each is a
        # fact about objects named by their ids), or a damaged file, which is replaced
        connection.execute(_WAL)
        connection.execute(_UNSYNCED)
        objects = connection.execute(_OBJECTS).fetchall()
        if not objects:
            with connection:
                for sql in _SCHEMA.values():
                    connection.execute(sql)
                connection.execute(_SET_FORMAT, (environment,))
            return connection
        tables = {name: sql for kind, name, sql in objects if kind == "table"}
        others = [name for kind, name, _sql in objects if kind != "index" or not name.startswith("sqlite_")]
        meta = connection.execute(_FORMAT).fetchall()
        if tables == _SCHEMA and set(others) == set(_SCHEMA) and meta == [(environment,)]:
            return connection
    except sqlite3.Error:
        pass
    connection.close()
    return None


def _replace_with_empty(path: Path) -> bool:
    """Put an empty file where a cache that cannot be used stands (atomically: a rename over it)."""
    spare = path.with_name(f"{FILE_NAME}.{os.getpid()}.new")
    try:
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        os.close(fd)
        spare.replace(path)
    except OSError:
        with suppress(OSError):
            spare.unlink()
        return False
    for leftover in (path.with_name(FILE_NAME + suffix) for suffix in _BESIDE):
        with suppress(OSError):
            leftover.unlink()
    return True


def environment() -> str:
    """What the cached results depend on beyond the objects they are keyed by: this module's format,
    gitreg's version (its rules), and the loaders whose messages a verdict quotes."""
    from gitreg import __version__  # noqa: PLC0415 - gitreg/__init__ imports lazily, but not this early

    yaml, libyaml = yaml_version()
    pydantic = pydantic_version()  # the verdicts' messages are pydantic's
    return f"{FORMAT}; gitreg {__version__}; PyYAML {yaml} libyaml {libyaml}; pydantic {pydantic}"


def yaml_version() -> tuple[str, bool]:
    """PyYAML's version, and whether its libyaml extension is there (``yaml.__with_libyaml__``), read from
    its files rather than imported: a walk that meets only plain files never loads the YAML loader."""
    import importlib.machinery  # noqa: PLC0415 - loaded already, as importlib.util is

    spec = importlib.util.find_spec("yaml")
    if spec is not None and spec.origin:
        with suppress(OSError):
            init = Path(spec.origin)
            found = _YAML_VERSION.search(init.read_text(encoding="utf-8"))
            if found and init.name == "__init__.py":
                suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
                extension = any(
                    p.name.startswith("_yaml.") and p.name.endswith(suffixes) for p in init.parent.iterdir()
                )
                return found.group(1), extension
    import yaml  # noqa: PLC0415 - a layout this reader does not know

    return yaml.__version__, bool(getattr(yaml, "__with_libyaml__", False))


def pydantic_version() -> str:
    """pydantic's version, read from its ``version.py`` rather than imported: a walk that meets only plain
    files never loads pydantic, which costs tens of milliseconds."""
    spec = importlib.util.find_spec("pydantic")
    if spec is not None and spec.origin:
        with suppress(OSError):
            found = _VERSION.search(Path(spec.origin).with_name("version.py").read_text(encoding="utf-8"))
            if found:
                return found.group(1)
    from pydantic.version import VERSION  # noqa: PLC0415 - a layout this reader does not know

    return VERSION


#: The assignment in PyYAML's __init__.py.
_YAML_VERSION = re.compile(r"""^__version__ = ['"]([^'"]+)['"]""", re.MULTILINE)
#: The assignment in pydantic's version.py.
_VERSION = re.compile(r"""^VERSION = ['"]([^'"]+)['"]""", re.MULTILINE)
