"""The exceptions gitreg raises. Library code only raises these; the CLI turns them into one line and an
exit code. Each class writes its user-facing text in ``__str__``, ending with what to do where that helps."""

from __future__ import annotations

from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

if TYPE_CHECKING:
    from gitreg.validate.view import Finding


class GitregError(Exception):
    """Root of every error gitreg reports to a user. Exit code 3: gitreg could not do its job."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: The argument the text names, by its Python keyword (``branch=NAME``, ``unstage=True``): a front
        #: end that spells its arguments otherwise words it its own way (the command line's ``--branch``).
        self.argument = argument

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(GitregError):
    """The user asked for something that cannot mean anything (bad ref syntax, bad option value)."""

    exit_code = 2


class NotFoundError(GitregError):
    """A model, version, stage or registry that does not exist."""


class ConflictError(GitregError):
    """The thing to be created exists already (a version, a branch, a destination path)."""


class DestinationExistsError(ConflictError):
    """Where an artifact is to be written holds something else. The hint names the library's way to replace
    it; the command line words its own."""

    def __init__(self, path: str, hint: str = "remove it, or pass force=True to replace it") -> None:
        super().__init__(f"{path} already exists and holds something else", hint)
        self.path = path


class StorageError(GitregError):
    """The blob store could not be read or written."""


class IntegrityError(StorageError):
    """Bytes whose SHA-256 is not the one recorded: a tampered or corrupted blob."""

    def __init__(self, expected: str, actual: str, what: str = "blob") -> None:
        super().__init__(
            f"{what} {expected} is corrupt: its content hashes to {actual}",
            "the store copy was altered; run `gitreg verify` and re-register the artifact from its source",
        )
        self.expected = expected
        self.actual = actual


class UnsafePathError(GitregError):
    """A name gitreg will not write or store: it would land outside the folder given, or is not one
    portable file name (see gitreg.filesystem.name_problem)."""


class GitError(GitregError):
    """A git command failed."""


class ForgeError(GitregError):
    """The forge (GitHub, GitLab) refused or failed a request."""


class RefusedError(GitregError):
    """The validator would refuse this change (a promotion, rollback, archive or restore). Exit code 1, as
    for the validator's own findings."""

    exit_code = 1

    def __init__(self, findings: list[Finding]) -> None:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(f"refused: {first.rule}: {first.message}{more}")
        self.findings = findings


class Stopped(BaseException):
    """Raised in a controller's loop thread by SIGTERM or SIGINT. Not an Exception, like KeyboardInterrupt:
    code that catches every Exception (as a library's clean-up may) must not swallow the stop."""


class Problem(Frozen):
    """One problem found in one file, with the position it was found at (1-based; 0 when unknown)."""

    __match_args__ = ("path", "line", "col", "message")
    __slots__ = __match_args__
    path: str
    line: int
    col: int
    message: str

    def __init__(self, path: str, line: int, col: int, message: str) -> None:
        set_fields(self, path, line, col, message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        return f"{where}: {self.message}"


class ManifestError(GitregError):
    """A YAML file that does not parse or does not match its schema."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid manifest"
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
            if len(problems) > 1
            else ""
        )
        super().__init__(first + more)

    def __str__(self) -> str:
        return self.message


class QueryError(UsageError):
    """A filter (``Registry.versions(where=...)``, ``gitreg list --where``) that does not parse, or names a
    field no version has; ``column`` is 1-based, in the filter's text."""

    def __init__(self, message: str, column: int, hint: str | None = None) -> None:
        super().__init__(f"filter, column {column}: {message}", hint)
        self.column = column


class InvalidRegistryError(ManifestError):
    """The registry at the commit asked for does not pass the validator, so it is not shown (``gitreg catalog
    build``): its first error, as ``path:line:col: rule: message``. Exit code 1, as for the validator."""

    exit_code = 1

    def __str__(self) -> str:
        return f"{self.message} (fix the registry, then build again: gitreg validate lists every problem)"
