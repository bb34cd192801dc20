"""Credentials for an OCI registry, from the standard places only; the challenge a 401 answer carries.

Where credentials come from, first match wins:

1. ``GITREG_OCI_USERNAME`` and ``GITREG_OCI_PASSWORD`` (CI);
2. ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): ``credHelpers[host]``, else
   ``credsStore``, run as ``docker-credential-<helper> get`` with the host on its stdin (as docker, podman,
   oras and skopeo do); else ``auths[host].auth`` (base64 ``user:password``, what ``docker login`` writes
   without a helper), or ``auths[host].identitytoken`` (an OAuth2 refresh token, as ``az acr login``
   writes; a helper gives one as user name ``<token>``).

None found: requests go anonymously, which a public registry accepts for pulls. Credentials never come from
``registry.yaml`` or the storage URL."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import StorageError

#: How long a credential helper may take (it may ask a keychain).
HELPER_TIMEOUT = 30
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


#: The user name with which a credential helper (or ``identitytoken`` in config.json) gives an OAuth2
#: refresh token, which a token service exchanges for an access token (``grant_type=refresh_token``).
IDENTITY_TOKEN = "<token>"  # noqa: S105 - a marker docker defines, not a secret


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    source: str  # for messages: where they came from, never what they are

    @property
    def refresh_token(self) -> str | None:
        return self.password if self.username == IDENTITY_TOKEN else None

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class Challenge:
    """A ``WWW-Authenticate`` header: its scheme (``bearer`` or ``basic``, lower case) and parameters."""

    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge:
    scheme, _, rest = header.strip().partition(" ")
    params = {m[1].lower(): (m[2] if m[2] else m[3]).replace('\\"', '"') for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def docker_config_path() -> Path:
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def find_credentials(host: str) -> Credentials | None:
    """The credentials for ``host`` (``name[:port]``) from the standard places, or None."""
    user, password = os.environ.get("GITREG_OCI_USERNAME"), os.environ.get("GITREG_OCI_PASSWORD")
    if user and password is not None:
        return Credentials(user, password, "GITREG_OCI_USERNAME/GITREG_OCI_PASSWORD")
    path = docker_config_path()
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {path}: {exc}", "fix or remove the file") from None
    if not isinstance(config, dict):
        raise StorageError(f"cannot read {path}: not a JSON object", "fix or remove the file")
    helpers = config.get("credHelpers") or {}
    helper = helpers.get(host) if isinstance(helpers, dict) else None
    helper = helper or config.get("credsStore")
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, host)
        if found is not None:
            return found
    auths = config.get("auths") or {}
    if not isinstance(auths, dict):
        return None
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"):
        entry = auths.get(key)
        if isinstance(entry, dict):
            return _from_entry(entry, path)
    return None


def _from_entry(entry: dict[str, object], path: Path) -> Credentials | None:
    identity = entry.get("identitytoken")
    if isinstance(identity, str) and identity:  # an OAuth2 refresh token (az acr login, some OIDC logins)
        return Credentials(IDENTITY_TOKEN, identity, str(path))
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        if not sep:
            raise StorageError(
                f"{path}: an auths entry is not base64 of user:password", "run docker login again"
            )
        return Credentials(user, password, str(path))
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str):
        return Credentials(name, secret, str(path))
    return None


def _from_helper(helper: str, host: str) -> Credentials | None:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"], input=host, capture_output=True, text=True, timeout=HELPER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise StorageError(
            f"the credential helper {program} named in {docker_config_path()} is not installed",
            "install it, or remove credsStore/credHelpers from the file",
        ) from None
    except subprocess.TimeoutExpired:
        raise StorageError(f"the credential helper {program} did not answer in {HELPER_TIMEOUT} s") from None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous, as docker does
    try:
        answer = json.loads(done.stdout)
        user, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise StorageError(f"the credential helper {program} gave an answer that is not its JSON") from None
    if not isinstance(user, str) or not isinstance(secret, str):
        raise StorageError(f"the credential helper {program} gave an answer that is not its JSON")
    return Credentials(user, secret, program)


__all__ = ["Challenge", "Credentials", "docker_config_path", "find_credentials", "parse_challenge"]
