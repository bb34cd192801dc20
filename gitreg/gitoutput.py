"""git's raw output, read: the record formats gitreg asks git for and their parsers, and the one line of
git's error text a message quotes. Part of the git module family with ``gitrepo`` (which starts git): no
other module parses what git prints."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from gitreg.credentials import redact
from gitreg.values import Frozen, Value, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

if TYPE_CHECKING:  # only named in annotations
    from gitreg.gitrun import GitFailed

#: A diff as a walk keeps it: (the lines removed, the lines added), in order, without their newlines.
Patch = tuple[list[str], list[str]]
#: The blob id git shows for "no file" (before an addition, after a deletion).
ZERO_SHA = "0" * 40

#: One ``git log`` record: commit, parents, author, committer, committer date, subject, body. Its marks
#: are NUL-led: a commit message may hold any control character but NUL, so no message can forge them.
LOG_FORMAT = "%x00%x1e%H%x00%P%x00%an <%ae>%x00%cn <%ce>%x00%cI%x00%s%x00%b%x00%x1d"
_START, _END, _FIELD = "\x00\x1e", "\x00\x1d", "\x00"
#: A commit's signature as git verified it: status letter, signer, key.
SIGNATURE_FORMAT = "%G?%x00%GS%x00%GK"


class LogCommit(Value):
    """A commit of a first-parent log, with the files it changed against its first parent."""

    __match_args__ = (
        "commit",
        "parents",
        "author",
        "committer",
        "date",
        "subject",
        "body",
        "changes",
        "patches",
    )
    __slots__ = __match_args__
    commit: str
    parents: list[str]
    author: str  # "Name <email>"
    committer: str
    date: str  # committer date (when it landed), ISO 8601
    subject: str
    body: str
    changes: dict[str, tuple[str, str, str]]  # path -> (old, new blob, A/M/D)
    #: The diff of each stage file the walk diffed, by path: (lines removed, lines added), without their
    #: newlines (``gitreg.stage_patches`` writes them from the blobs; git's log is read raw).
    patches: dict[str, Patch]

    def __init__(
        self,
        commit: str,
        parents: list[str],
        author: str,
        committer: str,
        date: str,
        subject: str,
        body: str,
        changes: dict[str, tuple[str, str, str]] | None = None,
        patches: dict[str, Patch] | None = None,
    ) -> None:
        self.commit = commit  # a mutable value: plain assignment (a log has thousands of records)
        self.parents = parents
        self.author = author
        self.committer = committer
        self.date = date
        self.subject = subject
        self.body = body
        self.changes = {} if changes is None else changes
        self.patches = {} if patches is None else patches

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def parse_log(chunks: Iterable[bytes]) -> Iterator[LogCommit]:
    """The records of ``git log --raw --no-abbrev --format=LOG_FORMAT``, read from ``chunks`` of its output
    as git writes them (a long history is never held whole: a record is parsed once the next one starts).
    A record starts at a line that starts with its NUL-led mark: a message may end a field with the mark's
    second character, but no message holds a NUL, so none can start a line with the mark."""
    start = f"\n{_START}".encode()
    pending = bytearray(b"\n")  # the output's first line starts a record too
    for chunk in chunks:
        seen = max(len(pending) - len(start) + 1, 1)  # a mark may straddle two chunks; the one at 0 is known
        pending += chunk
        cut = pending.rfind(start, seen)
        if cut > 0:
            done = bytes(pending[:cut])
            del pending[:cut]
            yield from map(_record, done.split(start)[1:])  # what comes before the first mark is empty
    yield from map(_record, bytes(pending).split(start)[1:])


#: A raw diff line: ``:mode mode old new status\tpath`` (git quotes a path with a tab or newline in it).
_RAW = re.compile(r"^:\S+ \S+ (\S+) (\S+) (\S)\S*\t(.*)$", re.MULTILINE)


def _record(raw: bytes) -> LogCommit:
    """One record of ``parse_log`` (its leading mark taken off): the header's fields, then the raw lines."""
    head, _, changes = raw.decode("utf-8", "replace").partition(_END)
    commit, parents, author, committer, date, subject, body = head.split(_FIELD, 6)
    logged = LogCommit(commit, parents.split(), author, committer, date, subject, body)
    logged.changes = {path: (old, new, status) for old, new, status, path in _RAW.findall(changes)}
    return logged


def parse_ls_tree(
    out: str, sizes: bool = False, others: dict[str, str] | None = None
) -> dict[str, tuple[str, int]]:
    """{path: (blob sha, size or -1)} of ``git ls-tree -r -z`` (with ``-l`` when ``sizes``); the entries
    that are not blobs (a submodule's commit) go into ``others`` as {path: type}, if given."""
    files = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        fields = meta.split()
        if fields[1] == "blob":
            files[path] = (fields[2], int(fields[3]) if sizes else -1)
        elif others is not None:
            others[path] = fields[1]
    return files


class Signature(Frozen):
    """A commit's signature as git verified it: ``status`` is git's %G? letter (G good and trusted, U good
    but the key is not trusted, B bad, N none, E cannot be checked, X/Y expired, R revoked key)."""

    __match_args__ = ("status", "signer", "key")
    __slots__ = __match_args__
    status: str
    signer: str
    key: str

    def __init__(self, status: str, signer: str, key: str) -> None:
        set_fields(self, status, signer, key)


def parse_signature(out: str) -> Signature:
    status, signer, key = [*out.strip().split("\0"), "", ""][:3]
    return Signature(status or "N", signer, key)


def one_line(exc: GitFailed) -> str:
    """The line of git's stderr that says what went wrong."""
    return error_line(exc.stderr, str(exc))


def error_line(stderr: str, fallback: str) -> str:
    """The line of git's ``stderr`` that says what went wrong (``fallback`` if it is empty), redacted."""
    lines = [ln.strip() for ln in stderr.strip().strip("'").splitlines() if ln.strip()]
    lines = [ln.removeprefix("stderr: ").strip("'").strip() for ln in lines]
    line = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else fallback)
    return redact(line)  # git's messages (and the command line in str(exc)) may hold a URL's token


def push_reason(exc: GitFailed) -> str:
    """Why a push failed, in the remote's words: the ``[remote rejected] (reason)`` or ``[rejected]``
    status of ``git push --porcelain`` and the hook's ``remote:`` lines, else git's own error."""
    stdout, stderr = exc.stdout, exc.stderr
    reasons = []
    for line in stdout.splitlines():
        if line.startswith("!") and "\t" in line:
            reasons.append(line.split("\t")[-1].strip())
    remote = [
        ln.strip().strip("'").removeprefix("remote:").strip() for ln in stderr.splitlines() if "remote:" in ln
    ]
    remote = [ln for ln in remote if ln]
    parts = reasons + remote[:2]
    return "; ".join(parts) if parts else one_line(exc).removeprefix("error: ")


def parse_ref_tips(out: str) -> dict[str, str]:
    """{ref name: commit} of ``git for-each-ref --format=%(refname)%00%(objectname)%00%(*objectname)``: a
    tag object's peeled commit, else the ref's own object."""
    tips = {}
    for line in out.splitlines():
        name, _, rest = line.partition("\0")
        obj, _, peeled = rest.partition("\0")
        if name and obj:
            tips[name] = peeled or obj
    return tips


def parse_ls_remote(out: str, ref: str) -> str | None:
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None
