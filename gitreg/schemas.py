"""JSON Schemas of the four kinds of file, for editors and other tools, made from the pydantic models in
``manifest``: each with an ``$id``, a title and a description for every field (the fields' docstrings), and
every constraint the validator enforces that JSON Schema can say. What it cannot say (that ``version: 2.0``
is not an integer, since JSON does not tell 2.0 from 2; that a metric is not ``.nan``; which timestamps
Python reads) the validator still checks.

``write`` puts them in a registry, under ``.gitreg/schemas/``, with editor settings that map each kind's
files to its schema (``.vscode/settings.json``, read by the YAML language server)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from gitreg import manifest

BASE_ID = "https://gitreg.dev/schemas/v1/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: kind -> (file name under .gitreg/schemas/, the registry files of that kind)
FILES: dict[str, tuple[str, list[str]]] = {
    "Registry": ("registry.json", ["registry.yaml"]),
    "Model": ("model.json", ["models/*/model.yaml"]),
    "ModelVersion": ("model-version.json", ["models/*/versions/*.yaml"]),
    "Stage": ("stage.json", ["stages/*.yaml"]),
}
FOLDER = ".gitreg/schemas"
SETTINGS = ".vscode/settings.json"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file."""
    schema: dict[str, Any] = manifest.KINDS[kind].model_json_schema(by_alias=True)
    _name_keys(schema)
    _describe_refs(schema, schema.get("$defs", {}))
    if kind == "Stage":
        schema["type"] = ["object", "null"]  # an empty stage file is an empty stage
        schema["description"] = "stages/<stage>.yaml: model -> version, one version per model."
    return {"$schema": DRAFT, "$id": BASE_ID + FILES[kind][0], **schema, "title": kind}


def all_schemas() -> dict[str, Any]:
    """One schema for any file of a registry: it holds if the file is one of the four kinds."""
    defs: dict[str, Any] = {}
    for kind in sorted(manifest.KINDS):
        schema = json_schema(kind)
        for name, sub in schema.pop("$defs", {}).items():
            if defs.setdefault(name, sub) != sub:  # pragma: no cover - the models keep one meaning per name
                raise AssertionError(f"two definitions named {name}")
        for key in ("$schema", "$id"):
            schema.pop(key)
        defs[kind] = schema
    return {
        "$schema": DRAFT,
        "$id": BASE_ID + "gitreg.json",
        "title": "gitreg registry file",
        "description": "A registry.yaml, model.yaml, version manifest or stage file of a gitreg registry.",
        "anyOf": [{"$ref": f"#/$defs/{kind}"} for kind in sorted(manifest.KINDS)],
        "$defs": defs,
    }


def _name_keys(node: Any) -> None:
    """pydantic writes a mapping keyed by names as ``patternProperties``, which lets any other key through:
    say instead that every key is a name, and what every value is."""
    if isinstance(node, dict):
        pattern = node.get("patternProperties")
        if isinstance(pattern, dict) and list(pattern) == [manifest.NAME_SCHEMA["pattern"]]:
            node.pop("patternProperties")
            node["propertyNames"] = {k: v for k, v in manifest.NAME_SCHEMA.items() if k != "type"}
            node["additionalProperties"] = pattern[manifest.NAME_SCHEMA["pattern"]]
        for value in node.values():
            _name_keys(value)
    elif isinstance(node, list):
        for value in node:
            _name_keys(value)


def _describe_refs(node: Any, defs: dict[str, Any]) -> None:
    """pydantic leaves out a field's description when it is its model's: an editor shows the field's."""
    if isinstance(node, dict):
        for field in (node.get("properties") or {}).values():
            ref = field.get("$ref", "")
            if "description" not in field and ref.startswith("#/$defs/"):
                field["description"] = defs[ref.removeprefix("#/$defs/")].get("description", "")
        for value in node.values():
            _describe_refs(value, defs)
    elif isinstance(node, list):
        for value in node:
            _describe_refs(value, defs)


def render(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def files(top: Path | None = None) -> dict[str, str]:
    """{path relative to the registry: content} of the schemas under ``.gitreg/schemas/`` and of the editor
    settings that map them, keeping any other settings ``top/.vscode/settings.json`` holds."""
    out: dict[str, str] = {}
    mapping: dict[str, list[str]] = {}
    for kind, (name, globs) in FILES.items():
        out[f"{FOLDER}/{name}"] = render(json_schema(kind))
        mapping[f"./{FOLDER}/{name}"] = globs
    settings: Any = {}
    if top is not None:
        try:
            settings = json.loads((top / SETTINGS).read_text())
        except (OSError, ValueError):
            settings = {}
    if not isinstance(settings, dict):
        settings = {}
    schemas = settings.get("yaml.schemas")
    schemas = copy.deepcopy(schemas) if isinstance(schemas, dict) else {}
    out[SETTINGS] = render({**settings, "yaml.schemas": {**schemas, **mapping}})
    return out


def write(top: Path) -> list[str]:
    """Write ``files(top)`` into the registry at ``top``; return the paths written."""
    written = []
    for rel, text in files(top).items():
        target = top / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            written.append(rel)
    return written


__all__ = ["FILES", "all_schemas", "files", "json_schema", "write"]
