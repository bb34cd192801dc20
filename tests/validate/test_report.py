"""The four output formats (and GitHub's job summary), exactly, for findings of each severity and for a
clean run; characters that mean something in a format are escaped."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from gitreg.validate import Report
from gitreg.validate import report as reports
from gitreg.validate.findings import Finding

MISMATCH = Finding(
    "models/fraud/model.yaml", 3, 1, "path-mismatch", "name is 'froud' but the folder is models/fraud/"
)
NO_OWNERS = Finding(
    "models/churn/model.yaml",
    3,
    1,
    "no-owners",
    "model has no owners: add CODEOWNERS handles under owners:",
    "warning",
)
NO_OWNERS_LINE = (
    "models/churn/model.yaml:3:1: no-owners: warning: "
    "model has no owners: add CODEOWNERS handles under owners:"
)
#: A stray file whose name holds every character GitHub's workflow commands reserve, and an odd message.
ODD = Finding("models/fraud/a,b:c%d\r\ne.txt", 0, 0, "stray-file", "50% of <this> & that\nand: more, too")


def report(*findings: Finding, files: int = 12) -> Report:
    return Report(sorted(findings), files)


def test_summary_line_counts() -> None:
    assert reports.summary_line(report()) == "ok: 12 files checked, no problems"
    assert reports.summary_line(report(files=1)) == "ok: 1 file checked, no problems"
    assert reports.summary_line(report(MISMATCH, NO_OWNERS, files=1)) == "1 error, 1 warning (1 file checked)"
    assert reports.summary_line(report(MISMATCH, ODD)) == "2 errors, 0 warnings (12 files checked)"
    assert reports.summary_line(report(NO_OWNERS)) == "0 errors, 1 warning (12 files checked)"


def test_text() -> None:
    assert reports.text(report(MISMATCH, NO_OWNERS)) == (
        f"{NO_OWNERS_LINE}\n"
        "models/fraud/model.yaml:3:1: path-mismatch: name is 'froud' but the folder is models/fraud/\n"
        "1 error, 1 warning (12 files checked)\n"
    )
    assert reports.text(report()) == "ok: 12 files checked, no problems\n"


def test_json() -> None:
    assert reports.as_json(report(MISMATCH, files=3)) == (
        "{\n"
        '  "ok": false,\n'
        '  "errors": 1,\n'
        '  "warnings": 0,\n'
        '  "files_checked": 3,\n'
        '  "findings": [\n'
        "    {\n"
        '      "path": "models/fraud/model.yaml",\n'
        '      "line": 3,\n'
        '      "col": 1,\n'
        '      "rule": "path-mismatch",\n'
        '      "severity": "error",\n'
        '      "message": "name is \'froud\' but the folder is models/fraud/"\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    warned = json.loads(reports.as_json(report(NO_OWNERS, ODD)))
    assert warned["ok"] is False
    assert [f["path"] for f in warned["findings"]] == [
        "models/churn/model.yaml",
        "models/fraud/a,b:c%d\r\ne.txt",
    ]
    assert warned["findings"][1]["message"] == "50% of <this> & that\nand: more, too"
    assert json.loads(reports.as_json(report(NO_OWNERS)))["ok"] is True  # warnings alone do not fail
    assert json.loads(reports.as_json(report())) == {
        "ok": True,
        "errors": 0,
        "warnings": 0,
        "files_checked": 12,
        "findings": [],
    }


def test_github_workflow_commands_escape_properties_and_messages() -> None:
    assert reports.github(report(MISMATCH, NO_OWNERS, ODD)).splitlines() == [
        "::warning file=models/churn/model.yaml,line=3,col=1,title=no-owners::"
        "model has no owners: add CODEOWNERS handles under owners:",
        "::error file=models/fraud/a%2Cb%3Ac%25d%0D%0Ae.txt,title=stray-file::"
        "50%25 of <this> & that%0Aand: more, too",
        "::error file=models/fraud/model.yaml,line=3,col=1,title=path-mismatch::"
        "name is 'froud' but the folder is models/fraud/",
        "2 errors, 1 warning (12 files checked)",
    ]
    assert reports.github(report()) == "ok: 12 files checked, no problems\n"


def test_markdown_job_summary() -> None:
    piped = Finding(
        "models/fraud/model.yaml", 7, 3, "schema", "unknown field 'auc|f1' (allowed: fields, metrics)"
    )
    assert reports.markdown_summary(report(MISMATCH, NO_OWNERS, piped)) == (
        "### gitreg validate: failed\n"
        "\n"
        "2 errors, 1 warning (12 files checked)\n"
        "\n"
        "| | file | line | rule | message |\n"
        "|---|---|---|---|---|\n"
        "| warning | `models/churn/model.yaml` | 3 | `no-owners` | "
        "model has no owners: add CODEOWNERS handles under owners: |\n"
        "| error | `models/fraud/model.yaml` | 3 | `path-mismatch` | "
        "name is 'froud' but the folder is models/fraud/ |\n"
        "| error | `models/fraud/model.yaml` | 7 | `schema` | "
        "unknown field 'auc\\|f1' (allowed: fields, metrics) |\n"
    )
    assert reports.markdown_summary(report(NO_OWNERS)).startswith("### gitreg validate: passed\n\n0 errors")
    assert reports.markdown_summary(report()) == (
        "### gitreg validate: passed\n\nok: 12 files checked, no problems\n"
    )


def test_markdown_job_summary_keeps_each_finding_in_one_row() -> None:
    """A file name is the user's: a '|' or a line break in it must not split or end its table row."""
    message = "unexpected file in models/: only model.yaml and versions/<n>.yaml belong there"
    odd_names = [
        Finding("models/fraud/notes|draft.md", 0, 0, "stray-file", message),
        Finding("models/fraud/notes\nv2.md", 0, 0, "stray-file", message),
    ]
    summary = reports.markdown_summary(report(*odd_names))
    rows = summary.split("|---|---|---|---|---|\n", 1)[1].splitlines()
    assert len(rows) == len(odd_names)
    for row in rows:
        unescaped = row.replace("\\|", "")
        assert unescaped.count("|") == 6, row  # five cells
        assert row.endswith(f"| `stray-file` | {message} |")


def test_junit() -> None:
    markup = Finding("models/fraud/a&b<c>.txt", 0, 0, "stray-file", 'odd "name" & <markup>\nsecond line')
    xml = reports.junit(report(MISMATCH, NO_OWNERS, markup))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>')
    root = ET.fromstring(xml)  # noqa: S314 - gitreg's own output, not untrusted input
    assert root.tag == "testsuites"
    (suite,) = list(root)
    assert suite.tag == "testsuite"
    assert suite.attrib == {"name": "gitreg validate", "tests": "3", "failures": "2", "errors": "0"}
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("models/churn/model.yaml", "no-owners at models/churn/model.yaml:3:1"),
        ("models/fraud/a&b<c>.txt", "stray-file at models/fraud/a&b<c>.txt:0:0"),
        ("models/fraud/model.yaml", "path-mismatch at models/fraud/model.yaml:3:1"),
    ]
    failures = suite.findall("testcase/failure")
    assert [(f.get("type"), f.get("message"), f.text) for f in failures] == [
        ("stray-file", markup.message, str(markup)),
        (
            "path-mismatch",
            "name is 'froud' but the folder is models/fraud/",
            "models/fraud/model.yaml:3:1: path-mismatch: name is 'froud' but the folder is models/fraud/",
        ),
    ]
    warning = cases[0]
    assert warning.find("failure") is None
    assert warning.findtext("system-out") == NO_OWNERS_LINE

    clean = ET.fromstring(reports.junit(report()))  # noqa: S314 - gitreg's own output
    (suite,) = list(clean)
    assert suite.attrib == {"name": "gitreg validate", "tests": "1", "failures": "0", "errors": "0"}
    (case,) = suite.findall("testcase")
    assert case.attrib == {"classname": "registry", "name": "ok: 12 files checked, no problems"}
    assert list(case) == []
