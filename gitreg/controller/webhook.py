"""How a webhook to ``POST /reconcile`` is authenticated, the way forges sign them: GitHub's
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` (Gitea and Forgejo send the same), or GitLab's
``X-Gitlab-Token: <secret>``. The headers are checked before the body is read."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from gitreg.errors import UsageError

MISSING_SIGNATURE = "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)"


def check_secret(secret: str | None) -> bytes | None:
    """The webhook secret as bytes; UsageError if it is empty or blank, which would accept anyone."""
    if secret is None:
        return None
    if not secret.strip():
        raise UsageError(
            "the webhook secret (--webhook-secret or GITREG_WEBHOOK_SECRET) is empty",
            "set it to the secret the forge signs webhooks with, or unset it",
        )
    return secret.encode()


def header_error(secret: bytes, headers: Any) -> str | None:
    """What the headers alone say is wrong (no signature at all, a wrong GitLab token): checked before
    the body is read, so an unauthenticated client cannot make the server read anything."""
    token = headers.get("X-Gitlab-Token")
    if token is not None:
        return None if hmac.compare_digest(token.encode(), secret) else "X-Gitlab-Token does not match"
    return MISSING_SIGNATURE if headers.get("X-Hub-Signature-256") is None else None


def signature_error(secret: bytes, body: bytes, headers: Any) -> str | None:
    """Why a webhook request is not authentic, or None if it is."""
    problem = header_error(secret, headers)
    if problem is not None or headers.get("X-Gitlab-Token") is not None:
        return problem
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers["X-Hub-Signature-256"].strip().encode(), expected.encode()):
        return "X-Hub-Signature-256 does not match the body signed with the webhook secret"
    return None


__all__ = ["MISSING_SIGNATURE", "check_secret", "header_error", "signature_error"]
