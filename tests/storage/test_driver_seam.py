"""The seam between RemoteStore and a storage service (issue #10): the generic store and the driver
protocol load no fsspec (a backend need not be one; test_remote.py runs the backend suite through a driver
that is not), and the download stream does not import the store that uses it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gitreg.storage.remote

REMOTE = Path(gitreg.storage.remote.__file__).parent
REPO = Path(__file__).resolve().parents[2]
#: The modules of the generic remote store; only the drivers (fsspec_driver, s3, gcs, azure) know fsspec.
GENERIC = ["__init__.py", "driver.py", "download.py", "upload.py", "retry.py", "present_cache.py"]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_generic_store_and_a_non_fsspec_driver_load_no_fsspec() -> None:
    code = (
        "import sys, gitreg.storage.remote, testing.folder_driver\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 's3fs', 'gcsfs', 'adlfs')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_generic_modules_never_name_fsspec() -> None:
    for name in GENERIC:
        source = (REMOTE / name).read_text()
        assert "fsspec" not in imported(REMOTE / name), name
        assert ".fs." not in source and ".fs)" not in source, name


def test_download_does_not_import_the_store() -> None:
    assert {m for m in imported(REMOTE / "download.py") if m.startswith("gitreg.storage.remote")} == {
        "gitreg.storage.remote.driver",
        "gitreg.storage.remote.retry",
    }
    code = "import gitreg.storage.remote.download as d, sys; print(hasattr(d, 'RemoteStore'))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
