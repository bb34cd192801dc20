"""``gitreg list``'s cheaper per-model work gives what the straightforward code gave: a versions folder's
numbers found by one search over the whole listing are those ``VERSION_FILE_NAME`` finds name by name (odd
names included, in the working tree and in a commit; so are the highest and the count ``list`` takes of
them), and a table laid out with one format per row is the one ``str.ljust`` cell by cell gave."""

from __future__ import annotations

import random
from pathlib import Path

from gitreg.formatting import table_lines
from gitreg.layout import VERSION_FILE_NAME
from gitreg.reader import Reader
from gitreg.registry import Registry
from gitreg.snapshot import MemorySnapshot
from testing import commit_all, git

#: Names a versions folder may hold besides ``N.yaml``: each is, or is not, a version as the pattern says
#: (its ``$`` also takes one final newline).
ODD_NAMES = [
    "1.yaml",
    "2.yaml",
    "10.yaml",
    "007.yaml",
    "0.yaml",
    "3.yml",
    "4.yaml.bak",
    "5.YAML",
    ".yaml",
    "x6.yaml",
    "6 .yaml",
    "7.yaml\n",
    "8.yaml\n\n",
    "9\n.yaml",
    "\u0661\u0662.yaml",  # Arabic-Indic digits: isdigit() says yes, the pattern says no
    "11.yaml.yaml",
    "12.yaml 13.yaml",
    "README.md",
    ".gitkeep",
]


def by_name(names: list[str]) -> list[int]:
    """What ``Reader.version_numbers`` gave before: the pattern matched name by name."""
    return sorted(int(m[1]) for n in names if (m := VERSION_FILE_NAME.match(n)))


def test_version_numbers_match_the_pattern_name_by_name(registry: Path) -> None:
    folder = registry / "models" / "fraud" / "versions"
    folder.mkdir(parents=True)
    (folder.parent / "model.yaml").write_text("apiVersion: gitreg/v1\nkind: Model\nname: fraud\n")
    for name in ODD_NAMES:
        (folder / name).write_text("x\n")
    (folder / "13.yaml").mkdir()  # a folder named like a version: listed, as before
    commit_all(registry, "odd names")
    names = sorted(p.name for p in folder.iterdir())
    want = by_name(names)
    assert want == [1, 2, 7, 10, 13]
    for reg in (Registry.open(registry), Registry.open(registry, ref="HEAD")):
        assert isinstance(reg.reader, Reader)
        assert reg.reader.version_numbers("fraud") == by_name(reg.snapshot.listdir("models/fraud/versions"))
    assert Registry.open(registry).version_numbers("fraud") == want
    assert Registry.open(registry).reader.version_span("fraud") == (13, 5)
    assert Registry.open(registry).reader.version_span("nosuch") == (None, 0)
    committed = git(registry, "ls-tree", "-z", "--name-only", "HEAD", "models/fraud/versions/").split("\0")
    assert Registry.open(registry, ref="HEAD").version_numbers("fraud") == by_name(
        [p.rsplit("/", 1)[-1] for p in committed if p]
    )


def test_version_numbers_of_random_listings() -> None:
    rng = random.Random(11)  # noqa: S311 - reproducible names, not a secret
    pieces = ["1", "0", "9", "12", ".yaml", ".", "yaml", "\n", " ", "a", "\u0663", "-"]
    for _ in range(300):
        names = sorted({"".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(12)})
        names = [n for n in names if "/" not in n]
        reader = Reader(MemorySnapshot({f"models/m/versions/{n}": b"x" for n in names}))
        numbers = by_name(reader.snapshot.listdir("models/m/versions"))
        assert reader.version_numbers("m") == numbers, names
        assert reader.version_span("m") == (max(numbers, default=None), len(numbers)), names


def ljust_lines(rows: list[list[str]]) -> list[str]:
    """``table_lines`` as it was: each cell ``ljust`` to its column's width, joined, right-stripped."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def test_table_lines_as_ljust_gave() -> None:
    rng = random.Random(5)  # noqa: S311 - reproducible cells, not a secret
    cells = ["", "a", "é", "日本", "{", "}", "{0}", "{:>9}", "%s", " ", "\t", "\u3000", "x" * 40, "-"]
    for _ in range(500):
        width = rng.randint(1, 6)
        rows = [
            ["".join(rng.choice(cells) for _ in range(rng.randint(0, 3))) for _ in range(width)]
            for _ in range(rng.randint(1, 6))
        ]
        assert table_lines(rows) == ljust_lines(rows), rows
