"""How users get gitreg: its name on the package index, the repository its hooks are cloned from, and the
requirement line every install hint and template uses.

The command and the import name are ``gitreg``; the distribution is ``gitreg-registry``, because the
package index already holds an unrelated project named ``gitreg``. The version has one home,
``gitreg.__version__``, which the build reads too (pyproject.toml's ``[tool.hatch.version]``); a release is
tagged ``v<version>`` on ``REPOSITORY`` (CHANGELOG.md, "Releasing" in the README)."""

from __future__ import annotations

from gitreg import __version__

#: The name to ``pip install``: pyproject.toml's ``[project] name`` (tests/ops/test_release.py checks it).
DISTRIBUTION = "gitreg-registry"
#: This repository: its ``.pre-commit-hooks.yaml`` is what registries' pre-commit configs clone.
REPOSITORY = "https://github.com/gitreg/gitreg"
#: The release tag of the running version, which registries' pre-commit configs pin.
RELEASE_TAG = f"v{__version__}"


def requirement(extra: str | None = None, pinned: bool = True) -> str:
    """What to give ``pip install``: ``gitreg-registry[s3]==0.1.0`` (the running version when ``pinned``)."""
    name = f"{DISTRIBUTION}[{extra}]" if extra else DISTRIBUTION
    return f"{name}=={__version__}" if pinned else name


def install_hint(extra: str) -> str:
    """The command that installs an extra, for error messages: ``pip install 'gitreg-registry[s3]'``."""
    return f"pip install '{requirement(extra, pinned=False)}'"
