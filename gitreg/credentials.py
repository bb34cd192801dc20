"""What looks like a credential, in one place: the patterns the validator scans registry files for, the
names of options and URL query parameters that hold secrets, and the redaction of URLs before gitreg
prints them (error messages end up in CI logs, which many people can read).

Every pattern runs in time linear in the text it scans, whatever the text: each starts with a literal or
with a character that must not continue a run (a lookbehind), and repeats only up to a bound unless what
follows cannot be backtracked into quadratically. tests/validate/test_credential_scan.py holds each to that
with megabytes of its worst-case input."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

#: Patterns of values that look like secrets. A manifest is read by everyone who can read the registry.
#: Compiled on first use (``CREDENTIAL_PATTERNS``): the validator scans with them, while every read,
#: which only redacts what it prints, imports this module.
_CREDENTIAL_SOURCES: list[tuple[str, str]] = [
    ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("an AWS secret access key", r"(?i:aws_?secret_?access_?key)\W{0,5}[A-Za-z0-9/+=]{40}\b"),
    ("a private key", r"-----BEGIN (?:[A-Z]{1,20} )?PRIVATE KEY-----"),
    ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    ("a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("an Azure storage account key", r"AccountKey=[A-Za-z0-9+/=]{40,}"),
    # A scheme starts where a run of letters starts and is at most 32 characters long: unanchored and
    # unbounded, the scheme was retried from every letter of a long word, quadratic in its length.
    ("a password in a URL", r"(?<![a-z])[a-z][a-z0-9+.-]{0,31}://[^/\s:@]+:[^/\s@]+@"),
]
if TYPE_CHECKING:
    CREDENTIAL_PATTERNS: list[tuple[str, re.Pattern[str]]]


def __getattr__(name: str) -> Any:
    """``CREDENTIAL_PATTERNS``: the patterns compiled, once, on first use."""
    if name == "CREDENTIAL_PATTERNS":
        patterns = [(what, re.compile(source)) for what, source in _CREDENTIAL_SOURCES]
        globals()[name] = patterns
        return patterns
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Names of options (storage.options, GITREG_STORAGE_OPTIONS) and URL query parameters that hold secrets.
SECRET_NAME = re.compile(
    r"(?i)secret|passw(?:or)?d|token|credential|private|account_?key|access_?key|sas|connection_?string"
    r"|signature$|^sig$|^key$"
)

#: Schemes whose user-info part is not a credential: Azure's abfs://container@account.dfs.core.windows.net.
_CONTAINER_AT_ACCOUNT = {"abfs", "abfss"}
#: A URL inside free text: a scheme (starting where a run of letters starts, bounded as above) and what
#: follows up to white space or a quote.
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]*")
REDACTED = "***"


def is_secret_name(name: str) -> bool:
    """Whether an option or query parameter called ``name`` would hold a secret."""
    return SECRET_NAME.search(name) is not None


def url_secrets(url: str) -> list[str]:
    """What in ``url`` is a credential: its user-info ("a user name and password"), secret query
    parameters; empty if nothing is."""
    parts = _split(url)
    if parts is None:
        return []
    found = []
    userinfo = _userinfo(parts)
    if userinfo is not None:
        found.append("a user name and password" if ":" in userinfo else "a user name or token")
    found += [f"the query parameter {name!r}" for name in _secret_params(parts.query)]
    return found


def redact_url(url: str) -> str:
    """``url`` with its user-info and the values of secret query parameters replaced by ``***``."""
    if "://" not in url:
        return url
    parts = _split(url)
    if parts is None:  # not a URL Python can take apart: show its scheme only
        return f"{url.partition('://')[0]}://{REDACTED}"
    netloc = parts.netloc
    if _userinfo(parts) is not None:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if _secret_params(query):
        query = "&".join(
            f"{name}={REDACTED}" if is_secret_name(name) else field
            for field in query.split("&")
            for name in [field.partition("=")[0]]
        )
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return parts._replace(netloc=netloc, query=query).geturl()


def redact(text: str) -> str:
    """``text`` with every URL in it redacted (see ``redact_url``)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    found = match.group(0)
    url = found.rstrip(".,;:!?)]}")  # the punctuation of the sentence around it
    return redact_url(url) + found[len(url) :]


def redact_data(data: Any) -> Any:
    """``data`` (JSON-like: dicts, lists, strings...) with every string in it redacted (see ``redact``)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {key: redact_data(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redact_data(item) for item in data]
    return data


def _split(url: str) -> SplitResult | None:
    if "://" not in url:
        return None
    try:
        return urlsplit(url)
    except ValueError:  # an invalid IPv6 host, for one
        return None


def _userinfo(parts: SplitResult) -> str | None:
    userinfo, at, _host = parts.netloc.rpartition("@")
    if not at:
        return None
    if parts.scheme.lower() in _CONTAINER_AT_ACCOUNT and ":" not in userinfo:
        return None
    return userinfo


def _secret_params(query: str) -> list[str]:
    return [name for field in query.split("&") if is_secret_name(name := field.partition("=")[0])]


__all__ = [
    "CREDENTIAL_PATTERNS",
    "REDACTED",
    "SECRET_NAME",
    "is_secret_name",
    "redact",
    "redact_data",
    "redact_url",
    "url_secrets",
]
