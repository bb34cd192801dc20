"""``gitreg.cli.output``: the one size format of the command line."""

from __future__ import annotations

import pytest

from gitreg.cli import output


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**3, "1.0 GiB"),
        (1024**4, "1.0 TiB"),  # `gitreg list` said 1024.0 GiB, `gitreg gc` 1.0 TiB
        (5 * 1024**5, "5120.0 TiB"),
    ],
)
def test_one_size_format(n: int, text: str) -> None:
    assert output.size(n) == text
