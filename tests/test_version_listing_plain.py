"""A versions folder holding exactly ``1.yaml`` to ``N.yaml`` (what registering leaves) is answered without
searching its listing (``gitreg.reader``'s ``_contiguous``, asked of every model by ``gitreg list``); every
other listing, however close to that, is searched: both give what ``VERSION_FILE_NAME`` finds name by name,
in memory, in a working tree and in a commit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gitreg.layout import VERSION_FILE_NAME
from gitreg.reader import Reader
from gitreg.registry import Registry
from gitreg.snapshot import MemorySnapshot
from testing import commit_all


def by_name(names: list[str]) -> list[int]:
    """The pattern matched name by name."""
    return sorted(int(m[1]) for n in names if (m := VERSION_FILE_NAME.match(n)))


def near_plain(count: int) -> list[list[str]]:
    """``1.yaml`` ... ``N.yaml``, and listings one change away from it."""
    plain = [f"{n}.yaml" for n in range(1, count + 1)]
    last = plain[-1]
    return [
        plain,
        plain[1:],
        plain[:-1],
        [n for n in plain if n != f"{(count + 1) // 2}.yaml"],
        [*plain, "0.yaml"],
        [*plain, f"{count + 1}.yaml"],
        [*plain, f"{count + 2}.yaml"],
        ["01.yaml", *plain[1:]],
        [*plain[:-1], f"{last}\n"],
        [*plain[:-1], f"{last[:-5]}.yml"],
        [*plain, "README.md"],
        [*plain[:-1], "x.yaml"],
        [*plain[:-1], f"{count + 1}.yaml"],
        [*plain[:-1], "\u0661.yaml"],
    ]


@pytest.mark.parametrize("count", [1, 2, 9, 10, 11, 63, 64, 65, 100, 1000])
def test_plain_and_nearly_plain_listings(count: int) -> None:
    for names in near_plain(count):
        reader = Reader(MemorySnapshot({f"models/m/versions/{n}": b"x" for n in names}))
        numbers = by_name(reader.snapshot.listdir("models/m/versions"))
        assert reader.version_numbers("m") == numbers, names
        assert reader.version_span("m") == (max(numbers, default=None), len(numbers)), names


def test_shuffled_pieces_of_plain_listings() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible names, not a secret
    odd = ["0.yaml", "01.yaml", "3.yml", "4.yaml\n", "README.md", "\u0663.yaml", "7.yaml.bak"]
    for _ in range(400):
        count = rng.randint(0, 14)
        names = {f"{n}.yaml" for n in range(1, count + 1) if rng.random() < 0.9}
        names |= {rng.choice(odd) for _ in range(rng.randint(0, 2))}
        reader = Reader(MemorySnapshot({f"models/m/versions/{n}": b"x" for n in names}))
        numbers = by_name(sorted(names))
        assert reader.version_numbers("m") == numbers, names
        assert reader.version_span("m") == (max(numbers, default=None), len(numbers)), names


def test_a_working_tree_and_a_commit(registry: Path) -> None:
    folder = registry / "models" / "fraud" / "versions"
    folder.mkdir(parents=True)
    (folder.parent / "model.yaml").write_text("apiVersion: gitreg/v1\nkind: Model\nname: fraud\n")
    for n in range(1, 12):
        (folder / f"{n}.yaml").write_text("x\n")
    commit_all(registry, "eleven versions")
    (folder / "12.yaml").mkdir()  # uncommitted, and a folder: the working tree lists it, the commit cannot
    (folder / "12.yaml" / "keep").write_text("")
    assert Registry.open(registry).reader.version_span("fraud") == (12, 12)
    assert Registry.open(registry).version_numbers("fraud") == list(range(1, 13))
    assert Registry.open(registry, ref="HEAD").reader.version_span("fraud") == (11, 11)
    (folder / "3.yaml").unlink()
    assert Registry.open(registry).reader.version_span("fraud") == (12, 11)
    assert Registry.open(registry, ref="HEAD").version_numbers("fraud") == list(range(1, 12))
