"""Names that reach the file system: one rule (gitreg.filesystem) for what register stores and what pull, the
store and the controller write. A hostile manifest or tree listing is refused with one line, and nothing is
written outside the folder given; what register accepts, pull can write, and the other way round."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from gitreg import Registry
from gitreg.errors import GitregError, StorageError
from gitreg.ops.copy import copy_blobs
from gitreg.storage import LocalStore
from gitreg.storage.artifact import download, parse_tree_listing, tree_entries
from testing import Result, git, run, tree_state, write_bytes

LISTING_HINT = "the tree listing is not one gitreg wrote"
RENAME_HINT = "rename it: gitreg stores only names that are valid on Linux, macOS and Windows"
MANIFEST_HINT = "set artifact.name to the file or folder name alone, as gitreg register records it"

#: name -> why the one rule refuses it (as the messages say it).
BAD_NAMES = {
    "a\\b": "contains a backslash, which separates folders on Windows",
    "a:b": "contains ':', which Windows does not allow in names",
    "a<b": "contains '<', which Windows does not allow in names",
    "a>b": "contains '>', which Windows does not allow in names",
    'a"b': "contains '\"', which Windows does not allow in names",
    "a|b": "contains '|', which Windows does not allow in names",
    "a?b": "contains '?', which Windows does not allow in names",
    "a*b": "contains '*', which Windows does not allow in names",
    "tab\tname": "contains a control character",
    "new\nline": "contains a control character",
    "del\x7f": "contains a control character",
    "end.": "ends with a dot or a space, which Windows drops",
    "end ": "ends with a dot or a space, which Windows drops",
    "nul": "is a device name on Windows",
    "CON": "is a device name on Windows",
    "con.txt": "is a device name on Windows",
    "Aux.tar.gz": "is a device name on Windows",
    "com1": "is a device name on Windows",
    "lpt9.bin": "is a device name on Windows",
}
#: Unusual but portable names: register stores them and pull writes them back.
GOOD_NAMES = [
    "model.onnx",
    ".hidden",
    "a..b",
    "with space.bin",
    "mod\u00e8le.bin",
    "\u65e5\u672c.bin",
    "CONFIG",
    "console.log",
    "com10",
    "nul-model",
    "x" * 255,
    "a-b_c+d=e,f;g@h#i%j&k'l(m)n[o]p{q}r~s$t!u",
]


def assert_error(result: Result, code: int, message: str) -> None:
    assert (result.exit_code, result.stderr, result.stdout) == (code, f"error: {message}\n", "")


def write_listing(blobs: Path, entries: list[tuple[str, bytes]]) -> tuple[str, int]:
    """Store files and a hand-made listing of them, in the order given (as a foreign or tampered store could
    hold it); return the listing's digest and the files' total size."""
    store = LocalStore(blobs)
    rows = [
        {"path": path, "size": len(data), "digest": store.put_bytes(data).digest, "executable": False}
        for path, data in entries
    ]
    doc = {"kind": "gitreg-tree/v1", "entries": rows}
    return store.put_bytes(json.dumps(doc).encode()).digest, sum(len(d) for _, d in entries)


def registered(registry: Path, tmp_path: Path) -> Path:
    """Register a small folder as m@1; return the path of its manifest."""
    write_bytes(tmp_path / "art" / "weights" / "w.bin", 100)
    result = run("register", "m", tmp_path / "art" / "weights", cwd=registry)
    assert result.exit_code == 0, result.stderr
    return registry / "models" / "m" / "versions" / "1.yaml"


def edit_artifact(manifest: Path, **fields: object) -> None:
    data = yaml.safe_load(manifest.read_text())
    data["artifact"].update(fields)
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def shown(name: str) -> str:
    return repr(name)


# --- a hostile artifact name in a manifest ------------------------------------------------------------------


HOSTILE_ARTIFACT_NAMES = {
    "../../x": "contains '/', which separates folders",
    "/etc/abs": "contains '/', which separates folders",
    "a/b": "contains '/', which separates folders",
    "..": "names a folder itself or its parent, not an entry in it",
    ".": "names a folder itself or its parent, not an entry in it",
    "..\\..\\x": "contains a backslash, which separates folders on Windows",
    "a:b": "contains ':', which Windows does not allow in names",
    "nul": "is a device name on Windows",
}


@pytest.mark.parametrize(("name", "reason"), HOSTILE_ARTIFACT_NAMES.items())
def test_validate_reports_an_unsafe_artifact_name_at_its_line(
    registry: Path, tmp_path: Path, name: str, reason: str
) -> None:
    manifest = registered(registry, tmp_path)
    edit_artifact(manifest, name=name)
    result = run("validate", cwd=registry)
    assert result.exit_code == 1, result.stderr
    line = line_of(manifest, "  name: ")
    assert (
        f"models/m/versions/1.yaml:{line}:3: unsafe-name: artifact.name {shown(name)} {reason}: "
        "give the file or folder name alone, as gitreg register records it"
    ) in result.stdout.splitlines()


@pytest.mark.parametrize(("name", "reason"), HOSTILE_ARTIFACT_NAMES.items())
def test_pull_into_a_folder_refuses_an_unsafe_artifact_name(
    registry: Path, tmp_path: Path, name: str, reason: str
) -> None:
    manifest = registered(registry, tmp_path)
    edit_artifact(manifest, name=name)
    out = tmp_path / "deep" / "er" / "out"
    out.mkdir(parents=True)
    before = tree_state(tmp_path)
    result = run("pull", "m@1", "-o", f"{out}/", cwd=registry)
    assert_error(result, 3, f"m@1: artifact name {shown(name)} {reason} ({MANIFEST_HINT})")
    assert tree_state(tmp_path) == before


def test_pull_through_the_python_api_refuses_an_unsafe_artifact_name(registry: Path, tmp_path: Path) -> None:
    manifest = registered(registry, tmp_path)
    edit_artifact(manifest, name="../escaped")
    out = tmp_path / "out"
    out.mkdir()
    before = tree_state(tmp_path)
    reg = Registry.open(registry)
    with pytest.raises(GitregError) as info:
        reg.pull("m@1", out)
    assert str(info.value).startswith("m@1: artifact name '../escaped' contains '/'")
    with pytest.raises(GitregError):
        reg.pull("m@1", tmp_path / "new-name")  # refused even where the name would not be used
    assert tree_state(tmp_path) == before
    assert not (tmp_path / "escaped").exists()


# --- the one rule: register and pull agree ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES.items())
def test_register_refuses_a_folder_holding_an_unportable_name(
    registry: Path, blobs: Path, tmp_path: Path, name: str, reason: str
) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "ok.bin", 10)
    write_bytes(folder / "sub" / name, 10, seed=1)
    before = (tree_state(registry), tree_state(blobs))
    result = run("register", "m", folder, cwd=registry)
    assert_error(
        result, 3, f"cannot register {folder}: {shown('sub/' + name)}: {shown(name)} {reason} ({RENAME_HINT})"
    )
    assert (tree_state(registry), tree_state(blobs)) == before


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES.items())
def test_register_refuses_an_unportable_artifact_name(
    registry: Path, blobs: Path, tmp_path: Path, name: str, reason: str
) -> None:
    path = write_bytes(tmp_path / "art" / name, 10)
    before = (tree_state(registry), tree_state(blobs))
    result = run("register", "m", path, cwd=registry)
    where = str(path).replace("\t", "\\t").replace("\n", "\\n").replace("\x7f", "\\x7f")
    assert_error(result, 3, f"cannot register {where}: its name {shown(name)} {reason} ({RENAME_HINT})")
    assert (tree_state(registry), tree_state(blobs)) == before


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES.items())
def test_pull_refuses_a_listing_with_the_names_register_refuses(
    blobs: Path, tmp_path: Path, name: str, reason: str
) -> None:
    digest, _ = write_listing(blobs, [(f"sub/{name}", b"payload")])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(LocalStore(blobs), digest, "tree", out / "dest")
    problem = f"{shown('sub/' + name)}: {shown(name)} {reason}"
    assert str(info.value) == f"blob {digest} is not a valid tree listing: {problem} ({LISTING_HINT})"
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_what_register_accepts_pull_writes_back(registry: Path, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "deep" / name, 10)
    write_bytes(folder / name, 20, seed=1)
    result = run("register", "m", folder, cwd=registry)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    out.mkdir()
    result = run("pull", "m@1", "-o", f"{out}/", cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert (out / "weights" / "deep" / name).read_bytes() == (folder / "deep" / name).read_bytes()
    assert (out / "weights" / name).read_bytes() == (folder / name).read_bytes()


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_a_file_with_a_portable_name_registers_and_pulls(registry: Path, tmp_path: Path, name: str) -> None:
    path = write_bytes(tmp_path / "art" / name, 10)
    assert run("register", "m", path, cwd=registry).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    assert run("pull", "m@1", "-o", f"{out}/", cwd=registry).exit_code == 0
    assert (out / name).read_bytes() == path.read_bytes()


def test_register_refuses_names_that_differ_only_in_case_in_one_folder(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "sub" / "Model.bin", 10)
    write_bytes(folder / "sub" / "model.bin", 10, seed=1)
    write_bytes(folder / "other" / "MODEL.BIN", 10, seed=2)  # another folder: no clash
    before = (tree_state(registry), tree_state(blobs))
    result = run("register", "m", folder, cwd=registry)
    assert_error(
        result,
        3,
        f"cannot register {folder}: 'sub/Model.bin' and 'sub/model.bin' differ only in case or Unicode "
        f"form, so macOS and Windows would make them one file ({RENAME_HINT})",
    )
    assert (tree_state(registry), tree_state(blobs)) == before


def test_register_refuses_folders_that_differ_only_in_case(registry: Path, tmp_path: Path) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "Sub" / "a.bin", 10)
    write_bytes(folder / "sub" / "b.bin", 10, seed=1)
    result = run("register", "m", folder, cwd=registry)
    assert result.exit_code == 3
    assert "'Sub' and 'sub' differ only in case or Unicode form" in result.stderr


def test_register_refuses_names_that_differ_only_in_unicode_normalisation(
    registry: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "caf\u00e9.bin", 10)  # NFC
    write_bytes(folder / "cafe\u0301.bin", 10, seed=1)  # NFD: one file on macOS
    result = run("register", "m", folder, cwd=registry)
    assert result.exit_code == 3
    assert "differ only in case or Unicode form" in result.stderr


def test_register_refuses_a_name_that_is_not_utf8(registry: Path, blobs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "art" / "weights"
    write_bytes(folder / "ok.bin", 10)
    (folder / "sub").mkdir()
    with open(os.fsencode(folder / "sub") + b"/bad\xff.bin", "wb") as f:  # noqa: PTH123
        f.write(b"x")
    before = (tree_state(registry), tree_state(blobs))
    result = run("register", "m", folder, cwd=registry)
    assert_error(
        result,
        3,
        f"cannot register {folder}: 'sub/bad\\xff.bin': 'bad\\xff.bin' is not valid UTF-8 ({RENAME_HINT})",
    )
    assert (tree_state(registry), tree_state(blobs)) == before


def test_register_refuses_a_folder_whose_own_name_is_not_utf8(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    parent = tmp_path / "art"
    parent.mkdir()
    folder = os.fsdecode(os.fsencode(parent) + b"/w\xe9ights")
    write_bytes(Path(folder) / "ok.bin", 10)
    before = (tree_state(registry), tree_state(blobs))
    result = run("register", "m", folder, cwd=registry)
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("error: cannot register ")
    assert result.stderr.endswith(f": its name 'w\\xe9ights' is not valid UTF-8 ({RENAME_HINT})\n")
    assert "internal error" not in result.stderr
    assert (tree_state(registry), tree_state(blobs)) == before


# --- tree listings: canonical, checked wherever one is read ------------------------------------------------


NON_CANONICAL = {
    "twice": ([("a.bin", b"one"), ("a.bin", b"two")], "'a.bin' is listed twice"),
    "unsorted": (
        [("b.bin", b"one"), ("a.bin", b"two")],
        "'a.bin' is out of order (a listing is sorted by path)",
    ),
    "file-and-folder": ([("a", b"one"), ("a/b.bin", b"two")], "'a' is both a file and a folder"),
    "case": (
        [("A.bin", b"one"), ("a.bin", b"two")],
        "'A.bin' and 'a.bin' differ only in case or Unicode form, so macOS and Windows would make them "
        "one file",
    ),
    "folder-case": (
        [("M/x", b"one"), ("m/y", b"two")],
        "'M' and 'm' differ only in case or Unicode form, so macOS and Windows would make them one file",
    ),
    "too-long": (
        [("d/" + "\u00e9" * 128, b"one")],
        f"{shown('d/' + chr(0xE9) * 128)}: {shown(chr(0xE9) * 128)} is longer than 255 bytes",
    ),
    "empty-part": ([("a//b", b"one")], "'a//b': '' is empty"),
    "dot-dot": (
        [("a/../../x", b"one")],
        "'a/../../x': '..' names a folder itself or its parent, not an entry in it",
    ),
    "absolute": ([("/etc/x", b"one")], "'/etc/x' is an absolute path"),
    "empty": ([("", b"one")], "'' is empty"),
}


@pytest.mark.parametrize("case", NON_CANONICAL)
def test_a_non_canonical_listing_is_refused_by_download(blobs: Path, tmp_path: Path, case: str) -> None:
    entries, problem = NON_CANONICAL[case]
    digest, _ = write_listing(blobs, entries)
    out = tmp_path / "out"
    out.mkdir()
    store = LocalStore(blobs)
    with pytest.raises(StorageError) as info:
        download(store, digest, "tree", out / "dest")
    assert str(info.value) == f"blob {digest} is not a valid tree listing: {problem} ({LISTING_HINT})"
    assert list(out.iterdir()) == []
    with pytest.raises(StorageError):
        tree_entries(store, digest)


def test_parse_tree_listing_accepts_what_gitreg_writes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    digest, _ = write_listing(tmp_path / "blobs", [("a.bin", b"1"), ("a/b", b"2"), ("b", b"3")])
    entries = parse_tree_listing((tmp_path / "blobs").joinpath(*_blob_parts(digest)).read_bytes(), digest)
    assert [e.path for e in entries] == ["a.bin", "a/b", "b"]  # '.' sorts before '/'
    assert tree_entries(store, digest) == entries


def _blob_parts(digest: str) -> list[str]:
    hexdigest = digest.removeprefix("sha256:")
    return ["sha256", hexdigest[:2], hexdigest[2:]]


def test_a_listing_naming_one_path_twice_fails_check_artifacts_and_pull(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    manifest = registered(registry, tmp_path)
    digest, size = write_listing(blobs, [("w.bin", b"first"), ("w.bin", b"other bytes")])
    edit_artifact(manifest, digest=digest, size=size)
    git(registry, "commit", "-qam", "a listing with one path twice")
    problem = f"blob {digest} is not a valid tree listing: 'w.bin' is listed twice ({LISTING_HINT})"

    result = run("validate", "--check-artifacts", cwd=registry)
    assert result.exit_code == 1, result.stderr
    line = line_of(manifest, "  digest: ")
    assert f"models/m/versions/1.yaml:{line}:3: artifact: {problem}" in result.stdout.splitlines()

    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):  # the same refusal every time, never one of the two files
        assert_error(run("pull", "m@1", "-o", f"{out}/", cwd=registry), 3, problem)
        assert list(out.iterdir()) == []


def test_copying_a_non_canonical_listing_to_another_store_is_refused(blobs: Path, tmp_path: Path) -> None:
    digest, _ = write_listing(blobs, [("a.bin", b"one"), ("a.bin", b"two")])
    other = LocalStore(tmp_path / "other")
    with pytest.raises(StorageError) as info:
        copy_blobs(LocalStore(blobs), other, digest, "tree")
    assert "'a.bin' is listed twice" in str(info.value)
    assert list(other.digests()) == []


# --- model and stage names -------------------------------------------------------------------------------


def test_register_refuses_a_model_named_like_a_windows_device(registry: Path, tmp_path: Path) -> None:
    before = tree_state(registry)
    result = run("register", "aux", write_bytes(tmp_path / "m.bin", 10), cwd=registry)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 'aux' is not a valid model name")
    assert tree_state(registry) == before


def test_validate_refuses_a_stage_named_like_a_windows_device(registry: Path) -> None:
    config = registry / "registry.yaml"
    config.write_text(config.read_text().replace("- name: staging", "- name: con"))
    result = run("validate", cwd=registry)
    assert result.exit_code == 1
    assert "'con' is not a valid name: it is a device name on Windows" in result.stdout


@pytest.mark.parametrize(
    ("ref", "shown_as"),
    [
        ("../../etc", "../../etc"),
        ("fraud/../../x", "fraud/../../x"),
        ("a" * 300, "a" * 20 + "..."),
        ("/etc/passwd", "/etc/passwd"),
    ],
)
@pytest.mark.parametrize("command", ["show", "list", "diff"])
def test_a_reference_that_is_no_model_name_is_unknown_and_never_a_path(
    registry: Path, tmp_path: Path, ref: str, shown_as: str, command: str
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "model.yaml").write_text("apiVersion: gitreg/v1\nkind: Model\nname: etc\n")
    args = [command, ref, f"{ref}@1"] if command == "diff" else [command, ref]
    result = run(*args, cwd=registry)
    assert_error(result, 3, f"model {shown_as!r} is not in the registry")
