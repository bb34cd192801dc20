"""The walk cache's writes (``gitreg.walk_cache``), done on a thread of their own so that the walk does not
wait for them.

The walk hands over each batch of rows as one JSON text per table (json's C encoder: about a microsecond a
row), and a thread inserts each text with ONE statement (``INSERT ... SELECT ... FROM json_each(?)``): SQLite
runs the whole insert without Python's lock, so it runs on another core while the walk goes on, instead of
a row at a time between the walk's own steps. One batch is written at a time (the next waits for the one
before: memory holds at most two), each in one transaction as before, on the thread's own connection to
the same file (write-ahead log: the walk's reads go on meanwhile). ``close`` waits for the last one. It is
a cache: a batch that cannot be written (the file locked by another gitreg, a full disk, a read-only file)
is dropped, and the next walk computes it again; nothing escapes the thread, and a thread that died is not
waited for."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from contextlib import suppress
from pathlib import Path

#: Each table's rows, taken from a JSON array of rows (arrays in the table's column order), those whose key
#: is text of an object id's length. The keys are the ids git gave the walk, and a row keyed otherwise could
#: never be asked for: its digits are not checked again here (a GLOB for them was a third of the insert's
#: time). A transition's delta (an array) comes out as its JSON text, as ``json.dumps`` writes it but for the
#: spaces.
_KEYED = (
    " FROM (SELECT json_extract(value, '$[0]') AS k, value FROM json_each(?))"
    " WHERE typeof(k) = 'text' AND length(k) IN (40, 64)"
)
INSERT_JSON = {
    "transitions": "INSERT OR REPLACE INTO transitions SELECT k, json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]')" + _KEYED,
    "verdicts": "INSERT OR REPLACE INTO verdicts SELECT k, json_extract(value, '$[1]')" + _KEYED,
    "artifacts": "INSERT OR REPLACE INTO artifacts SELECT k, json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]')" + _KEYED,
}
#: Whether this SQLite reads JSON (built in since 3.38; an extension before): asked once per file opened.
JSON_WORKS = "SELECT json_extract(value, '$[1]') FROM json_each('[[\"a\",1]]')"
_UNTRUSTED = "PRAGMA trusted_schema = OFF"
_UNSYNCED = "PRAGMA synchronous = OFF"

#: Rows as JSON text (no spaces; text as it is, but for the escapes JSON needs).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def encode(rows: list[tuple[object, ...]]) -> str:
    """A batch's rows as one JSON text, but for the rows SQLite would not give back as they are: one with
    a NUL (SQLite's JSON functions cut text at it) or a lone surrogate (UTF-8 cannot hold one) is left out,
    so it is not cached (the next walk computes it again) instead of cached otherwise."""
    text = _encode(rows)
    if _storable(text):
        return text
    return _encode([row for row in rows if storable(row)])


def storable(row: tuple[object, ...]) -> bool:
    """Whether SQLite gives ``row`` back as it is (see ``encode``)."""
    return _storable(_encode([row]))


def _storable(text: str) -> bool:
    if "\\u0000" in text:  # how JSON writes a NUL (or a backslash before u0000: not cached either)
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class CacheWriter:
    """Writes batches of rows to the cache at ``path`` (a file ``walk_cache`` has opened and checked), one
    batch at a time, on one thread of its own, started by the first batch (a walk that writes nothing but its
    last batch writes that one itself): a thread started for each batch made the walk wait, every time, for
    the new thread to be scheduled. ``write`` hands a batch over and returns; it waits only while another is
    still waiting to be written (memory holds at most two)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None  # opened by the thread's first batch
        self._turn = threading.Condition()
        self._waiting: tuple[dict[str, str], bool] | None = None  # handed over, not yet taken; the last?
        self._writing = False  # a batch taken and not yet written
        self._thread: threading.Thread | None = None  # started by the first batch before the last

    def busy(self) -> bool:
        """Whether a batch is being written or waits to be."""
        return self._writing or self._waiting is not None

    def write(self, batch: dict[str, str]) -> None:
        """Write ``batch`` ({table: JSON text of its rows}) once the batches before it are written."""
        self._hand_over(batch, last=False)

    def close(self, batch: dict[str, str]) -> None:
        """Write ``batch`` (it may be empty), close the connection, and return once it is done (at once, when
        the interpreter is exiting and the thread was writing: it never ends, and its rows are left)."""
        self._hand_over(batch, last=True)
        thread, self._thread = self._thread, None
        if thread is not None and not sys.is_finalizing():
            thread.join()  # the thread ends on its own: SQLite gives up on a lock after its timeout

    def _hand_over(self, batch: dict[str, str], last: bool) -> None:
        if self._thread is None and not last and not sys.is_finalizing():
            self._thread = self._start()
        thread = self._thread
        if thread is None or not thread.is_alive() or sys.is_finalizing():
            self._here(batch, last)
            return
        with self._turn:
            # the one waiting is taken once the batch being written is in (within SQLite's timeout)
            while self._waiting is not None and thread.is_alive():
                self._turn.wait(0.1)
            if thread.is_alive():
                self._waiting = (batch, last)
                self._turn.notify_all()
                return
        self._here(batch, last)

    def _start(self) -> threading.Thread | None:
        thread = threading.Thread(target=self._run, name="gitreg-walk-cache", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no new thread (a limit of the system): the batches are written here
            return None
        return thread

    def _here(self, batch: dict[str, str], last: bool) -> None:
        """Write ``batch`` on this thread, where the writer's cannot: it could not start, or the interpreter
        is exiting (a thread then never runs again). Dropped if the thread stopped halfway through a batch:
        the connection may still be in use."""
        if self._writing:
            return
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._write(*waiting)
        self._write(batch, last)

    def _run(self) -> None:
        last = False
        while not last:
            with self._turn:
                while self._waiting is None:
                    self._turn.wait()
                (batch, last), self._waiting = self._waiting, None
                self._writing = True
                self._turn.notify_all()
            try:
                self._write(batch, last)
            finally:
                self._writing = False

    def _write(self, batch: dict[str, str], last: bool) -> None:
        try:
            if batch:
                self._db = self._db or _connect(self._path)
                with self._db:
                    for table, text in batch.items():
                        self._db.execute(INSERT_JSON[table], (text,))
        except Exception:  # noqa: S110 - a cache: a batch not written is computed again by the next walk
            pass
        finally:
            if last and self._db is not None:
                with suppress(Exception):
                    self._db.close()  # the last connection closed writes the log back: here, not on the walk
                self._db = None


def _connect(path: Path) -> sqlite3.Connection:
    """A second connection to the cache ``walk_cache`` opened (and checked) at ``path``."""
    if path.is_symlink():
        raise sqlite3.OperationalError("the cache was replaced by a link")
    connection = sqlite3.connect(path, timeout=2, isolation_level="DEFERRED", check_same_thread=False)
    connection.execute(_UNTRUSTED)
    connection.execute(_UNSYNCED)
    return connection
