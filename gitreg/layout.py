"""The repository contract, written once: where each file of a registry lives, the patterns of names,
version numbers and digests, and the default branch. Every module that reads or writes a registry path
imports it from here."""

from __future__ import annotations

import re

#: The branch deployment controllers follow and pull requests target, unless told otherwise.
DEFAULT_BRANCH = "main"
#: The branch as last fetched from the forge, which a proposal starts from.
DEFAULT_REMOTE = "origin"

#: The ``kind`` of each file of a registry (``gitreg.manifest.KINDS`` maps each to its model).
KINDS = ("Registry", "Model", "ModelVersion", "Stage")

REGISTRY_FILE = "registry.yaml"
MODELS_DIR = "models"
STAGES_DIR = "stages"

#: A model or stage name: lowercase, digits and ``._-``, at most 64 characters, starting and ending with a
#: letter or digit.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$"
NAME = re.compile(NAME_PATTERN)
#: A version file's name inside ``models/<model>/versions/``.
VERSION_FILE_NAME = re.compile(r"^([1-9][0-9]*)\.yaml$")
#: A blob's address.
DIGEST_PATTERN = r"sha256:[0-9a-f]{64}"
DIGEST = re.compile(f"^{DIGEST_PATTERN}$")
#: Every digest inside a text (a manifest read as bytes, a listing).
DIGEST_ANYWHERE = re.compile(DIGEST_PATTERN)


#: The largest size of a blob or an artifact: what a signed 64-bit integer holds, as file systems and
#: cloud stores do. A manifest or tree listing saying more is refused.
MAX_SIZE = 2**63 - 1

#: ``models/<model>/model.yaml`` -> model
MODEL_FILE = re.compile(r"^models/([^/]+)/model\.yaml$")
#: ``models/<model>/versions/<file>`` -> (model, file name), whatever the file's name
VERSION_FILE = re.compile(r"^models/([^/]+)/versions/([^/]+)$")
#: ``models/<model>/versions/<n>.yaml`` with a well-formed number -> (model, number)
NUMBERED_VERSION_FILE = re.compile(r"^models/([^/]+)/versions/([1-9][0-9]*)\.yaml$")
#: anything under ``models/<model>/`` -> model
MODEL_PATH = re.compile(r"^models/([^/]+)/")
#: ``stages/<stage>.yaml`` -> stage
STAGE_FILE = re.compile(r"^stages/([^/]+)\.yaml$")
#: any file directly under ``stages/`` -> its name
STAGE_FOLDER_FILE = re.compile(r"^stages/([^/]+)$")


def model_path(model: str) -> str:
    return f"{MODELS_DIR}/{model}/model.yaml"


def versions_dir(model: str) -> str:
    return f"{MODELS_DIR}/{model}/versions"


def version_path(model: str, version: int) -> str:
    return f"{versions_dir(model)}/{version}.yaml"


def stage_path(stage: str) -> str:
    return f"{STAGES_DIR}/{stage}.yaml"


def history_paths(stage: str | None = None) -> list[str]:
    """What a stage history's walk logs: one stage's file, or every stage's."""
    return [stage_path(stage)] if stage else [f"{STAGES_DIR}/"]


#: The commits the audit walks: those that change the stages or the rules, each with all it changed
#: (``--full-diff``). What other commits did to models/ comes from one tree diff per commit walked
#: (``gitreg.gittrees``): following models/ through every commit that registered a version made git compare
#: the whole models/ tree at each of them.
AUDIT_PATHS = [f"{STAGES_DIR}/", REGISTRY_FILE]
#: Where a clone keeps the forges' pull-request refs once fetched (GitHub's and GitLab's, as fetched or as
#: a remote's): history's and audit's evidence of review.
PULL_REF_PREFIXES = (
    "refs/pull/",
    "refs/merge-requests/",
    "refs/remotes/origin/pull/",
    "refs/remotes/origin/merge-requests/",
)


def remote_branch(branch: str = DEFAULT_BRANCH, remote: str = DEFAULT_REMOTE) -> str:
    return f"{remote}/{branch}"
