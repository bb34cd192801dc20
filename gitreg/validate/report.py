"""Validator output: text, JSON, GitHub workflow commands (plus a Markdown job summary), JUnit XML.
Functions return strings; the CLI prints them."""

from __future__ import annotations

from gitreg.validate import Report
from gitreg.validate.findings import Finding

FORMATS = ("text", "json", "github", "junit")


def summary_line(report: Report) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    if not errors and not warnings:
        return f"ok: {_count(report.files_checked, 'file')} checked, no problems"
    checked = _count(report.files_checked, "file")
    return f"{_count(errors, 'error')}, {_count(warnings, 'warning')} ({checked} checked)"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def text(report: Report) -> str:
    lines = [_text_line(f) for f in report.findings]
    return "\n".join([*lines, summary_line(report)]) + "\n"


def _text_line(f: Finding) -> str:
    return f"{f}" if f.severity == "error" else f"{f.path}:{f.line}:{f.col}: {f.rule}: warning: {f.message}"


def as_json(report: Report) -> str:
    import json  # noqa: PLC0415 - the hook prints text: only --format json loads it

    doc = {
        "ok": not report.errors,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "files_checked": report.files_checked,
        "findings": [f.as_dict() for f in report.findings],
    }
    return json.dumps(doc, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then the summary line."""
    lines = []
    for f in report.findings:
        props = [f"file={_escape_property(f.path)}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.col}"]
        props.append(f"title={_escape_property(f.rule)}")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(f.message)}")
    return "\n".join([*lines, summary_line(report)]) + "\n"


def markdown_summary(report: Report) -> str:
    """The job summary GitHub shows on the run page ($GITHUB_STEP_SUMMARY)."""
    head = "### gitreg validate: " + ("passed" if not report.errors else "failed")
    lines = [head, "", summary_line(report)]
    if report.findings:
        lines += ["", "| | file | line | rule | message |", "|---|---|---|---|---|"]
        for f in report.findings:
            icon = "error" if f.severity == "error" else "warning"
            lines.append(f"| {icon} | `{_cell(f.path)}` | {f.line or ''} | `{f.rule}` | {_cell(f.message)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def junit(report: Report) -> str:
    """JUnit XML: one test case per finding (warnings pass, with their text in system-out), or one passing
    case when there is nothing to report."""
    from xml.etree import ElementTree as ET  # noqa: PLC0415 - only --format junit loads it

    suite = ET.Element(
        "testsuite",
        name="gitreg validate",
        tests=str(max(1, len(report.findings))),
        failures=str(len(report.errors)),
        errors="0",
    )
    for f in report.findings:
        case = ET.SubElement(
            suite, "testcase", classname=f.path, name=f"{f.rule} at {f.path}:{f.line}:{f.col}"
        )
        if f.severity == "error":
            failure = ET.SubElement(case, "failure", type=f.rule, message=f.message)
            failure.text = str(f)
        else:
            ET.SubElement(case, "system-out").text = _text_line(f)
    if not report.findings:
        ET.SubElement(suite, "testcase", classname="registry", name=summary_line(report))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS = {"text": text, "json": as_json, "github": github, "junit": junit}
