"""The home page's storage table is ``gitreg usage`` of the same commit: the same groups and the same
bytes, by model and by owner (issue 17's report, shown where the people who never open a terminal look)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from gitreg.catalog.site import _size
from testing import run
from testing.catalog_demo import Demo


def rows(html: str, caption: str) -> dict[str, list[str]]:
    """The body rows of the table with ``caption``: first cell (text) -> the other cells."""
    table = re.search(rf"<caption>{caption}</caption>(.*?)</table>", html, re.S)
    assert table is not None, caption
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if cells:
            found[cells[0]] = cells[1:]
    return found


def test_the_home_page_shows_what_gitreg_usage_reports(site: Path, demo: Demo) -> None:
    home = (site / "index.html").read_text()
    for by in ("model", "owner"):
        result = run("usage", "--by", by, "--json", cwd=demo.registry)
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        shown = rows(home, f"By {by}")
        expected = {
            g["name"]: [
                str(g["versions"]),
                _size(g["bytes"]),
                _size(g["shared_bytes"]),
                _size(g["archived_only_bytes"]),
            ]
            for g in report["groups"]
        }
        assert shown == expected
        assert len(shown) >= 2  # the demo has several models and owners: a table, not one row
    total = json.loads(run("usage", "--json", cwd=demo.registry).stdout)["total_bytes"]
    assert f"{_size(total)} in all" in home
