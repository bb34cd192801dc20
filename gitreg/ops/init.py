"""``gitreg init``: a new registry repository rendered from ``registry-template/``, with a first commit."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import jinja2

from gitreg import __version__, schemas
from gitreg.credentials import redact_url, url_secrets
from gitreg.distribution import RELEASE_TAG, REPOSITORY, requirement
from gitreg.errors import ConflictError, UsageError
from gitreg.filesystem import data_folder
from gitreg.gitrepo import GitRepo
from gitreg.storage import REMOTE_SCHEMES, default_store_url, open_store


def template_root() -> Path:
    """The templates: inside the installed wheel, or at the top of a source checkout (editable install)."""
    return data_folder("registry-template", "registry templates")


def storage_extra(storage_url: str) -> str | None:
    """The extra that installs the client of ``storage_url``'s backend (None for a local folder)."""
    kind = REMOTE_SCHEMES.get(urlparse(storage_url).scheme)
    return kind.extra if kind else None


def render(storage_url: str, name: str) -> dict[str, bytes]:
    """{relative path: content} of a new registry."""
    root = template_root()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - renders YAML and Markdown, never HTML
    )
    context = {
        "name": name,
        "storage_url": storage_url,
        "gitreg_version": __version__,
        # the hooks repository at this version's release tag, and this version with its storage extra,
        # so that pre-commit and CI run the gitreg that wrote the files, able to reach the store
        "gitreg_repo": REPOSITORY,
        "gitreg_rev": RELEASE_TAG,
        "gitreg_pip": requirement(storage_extra(storage_url)),
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    files: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.endswith(".j2"):
            files[rel.removesuffix(".j2")] = env.get_template(rel).render(context).encode()
        else:
            files[rel] = path.read_bytes()
    return files


def init(directory: Path, storage_url: str | None = None) -> tuple[Path, str]:
    """Create a registry in ``directory`` (new or empty); return its path and storage URL."""
    if directory.exists() and not directory.is_dir():
        raise ConflictError(f"{directory} exists and is not a folder")
    if (directory / "registry.yaml").exists():
        raise ConflictError(f"{directory} is already a gitreg registry")
    if directory.exists() and any(directory.iterdir()):
        raise ConflictError(f"{directory} is not empty and is not a registry", "choose a new or empty folder")
    url = storage_url or default_store_url()
    secrets = url_secrets(url)
    if secrets:
        raise UsageError(
            f"storage URL {redact_url(url)!r} carries {' and '.join(secrets)}, which registry.yaml would "
            "publish to everyone who can read the repository",
            "give credentials through the backend's environment variables or profiles, or GITREG_STORAGE_URL",
        )
    open_store(url, base=directory.resolve())  # refuse an unusable URL before writing anything
    files = render(url, directory.resolve().name)
    files |= {rel: text.encode() for rel, text in schemas.files().items()}  # for editors
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for rel, content in files.items():
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        repo = GitRepo.init(directory)
        repo.commit_all("Create registry with gitreg init")
    except BaseException:
        _remove_partial(directory, created, files)
        raise
    return directory, url


def _remove_partial(directory: Path, created: bool, files: dict[str, bytes]) -> None:
    """Undo a failed init: the folder was new or empty, so empty it again."""
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
