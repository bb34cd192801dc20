"""``gitreg catalog build``: the pages of a ``Catalog`` rendered with Jinja2 (autoescaping on) into a
temporary folder beside the output, which is then renamed into place: a failed build leaves no half-written
site, and the site it replaces stays whole until the new one is complete.

Every link is relative (``../../index.html``), so the site works from ``file://``, at a server's root and
under a sub-path (GitHub or GitLab Pages); ``--base-url`` only adds each page's canonical URL."""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from gitreg import __version__
from gitreg.catalog.charts import chart
from gitreg.catalog.data import KEY_METRICS, Catalog, ModelInfo, VersionInfo, gather
from gitreg.catalog.deployed import Target, read_targets
from gitreg.credentials import redact, url_secrets
from gitreg.errors import ConflictError, GitregError, UsageError
from gitreg.layout import DEFAULT_BRANCH
from gitreg.ops.review import HOW_TO_CONFIRM, UNCONFIRMED
from gitreg.registry import Registry
from gitreg.usage import UsageReport

HERE = Path(__file__).parent
#: A file every built site holds: an existing output folder is replaced only if it has it (or is empty).
MARKER = ".gitreg-catalog"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    pages: int
    models: int
    versions: int
    bytes: int


def check_base_url(base_url: str | None) -> str | None:
    """``base_url`` with a trailing slash; UsageError unless it is an http(s) URL without credentials."""
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            f"--base-url {base_url!r} is not an http(s) URL", "e.g. https://org.github.io/registry/"
        )
    if url_secrets(base_url):
        raise UsageError("--base-url must not carry credentials: every page would publish them")
    return base_url if base_url.endswith("/") else base_url + "/"


def build(
    directory: str | os.PathLike[str],
    out: Path,
    ref: str = DEFAULT_BRANCH,
    status: Iterable[Path] = (),
    base_url: str | None = None,
) -> BuildResult:
    """Build the catalog of the registry in ``directory`` at ``ref`` into ``out``."""
    base = check_base_url(base_url)
    _check_output(out)
    targets = read_targets(status)
    registry = Registry.open(directory, ref=ref)
    catalog = gather(registry, ref)
    usage = _usage(registry)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    except OSError as exc:
        raise GitregError(f"cannot write the catalog into {out}: {exc.strerror or exc}") from None
    try:
        pages = _write_site(temp, catalog, targets, base, usage)
        size = sum(p.stat().st_size for p in temp.rglob("*") if p.is_file())
        _publish(temp, out)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise GitregError(f"cannot write the catalog into {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    versions = sum(len(m.versions) for m in catalog.models)
    return BuildResult(out, pages, len(catalog.models), versions, size)


def _check_output(out: Path) -> None:
    for parent in out.parents:  # the nearest folder that exists must be one
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise ConflictError(
                    f"cannot write the catalog into {out}: {parent} is not a folder", "choose another -o DIR"
                )
            break
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ConflictError(f"{out} exists and is not a folder", "choose another -o DIR")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ConflictError(
            f"{out} is not empty and is not a catalog gitreg built", "choose another -o DIR, or empty it"
        )


def _publish(temp: Path, out: Path) -> None:
    """Put the finished site ``temp`` at ``out`` by a rename (an old site moved aside, removed after)."""
    _check_output(out)
    if not out.exists():
        temp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
    out.rename(old)
    try:
        temp.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --- rendering ------------------------------------------------------------------------------------------


def _size(n: int | None) -> str:
    """``512 B``, ``1.5 KiB``, ... (as the command line writes sizes)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _when(text: Any) -> str:
    """An ISO 8601 time as the pages show it: ``2026-11-01 12:00``."""
    return str(text or "-")[:16].replace("T", " ")


def _value(value: Any) -> str:
    """A manifest value in a table cell: JSON for lists and mappings, ``-`` for nothing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return redact(str(value))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(size=_size, when=_when, value=_value, who=lambda t: (t or "-").split(" <")[0])
    return env


def _usage(registry: Registry) -> list[UsageReport]:
    """``gitreg usage`` by model and by owner, from the manifests alone (the store is not asked)."""
    from gitreg.ops.usage import usage  # noqa: PLC0415 - reads main's history for the expired versions

    return [usage(registry, by=by) for by in ("model", "owner")]


def _write_site(
    root: Path, catalog: Catalog, targets: list[Target], base_url: str | None, usage: list[UsageReport]
) -> int:
    env = environment()
    common = {
        "ref": catalog.ref,
        "commit": catalog.commit or "working tree",
        "stages": catalog.stages,
        "base_url": base_url,
        "gitreg_version": __version__,
    }
    pages = 0

    def page(template: jinja2.Template, path: str, **context: Any) -> None:
        nonlocal pages
        target = root / path / "index.html" if path else root / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        html = template.render(common, root="../" * path.count("/"), path=path, **context)
        target.write_text(html, encoding="utf-8")
        pages += 1

    home, model_page, version_page = (env.get_template(f"{n}.html.j2") for n in ("home", "model", "version"))
    facets = _facets(catalog.models)
    page(
        home,
        "",
        models=catalog.models,
        targets=targets,
        facets=facets,
        versions_of=_versions_of(catalog),
        usage=usage,
    )
    for model in catalog.models:
        page(model_page, f"models/{model.name}/", model=model, **_model_context(model))
        # the links to the other versions, made once per model: each of N pages has N - 1 of them
        links = [Markup(f'<a href="../{v.number}/index.html">v{v.number}</a>') for v in model.versions]  # noqa: S704 - numbers
        for i, version in enumerate(model.versions):
            others = Markup(" ").join(links[:i] + links[i + 1 :])
            page(
                version_page, f"models/{model.name}/{version.number}/", model=model, v=version, others=others
            )
    page(env.get_template("audit.html.j2"), "audit/", **_audit_context(catalog))
    static = root / "static"
    static.mkdir(exist_ok=True)
    for name in ("catalog.css", "catalog.js", "favicon.svg"):
        shutil.copyfile(HERE / "static" / name, static / name)
    index = _index(catalog)
    text = json.dumps(index, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    (root / "index.json").write_text(text + "\n", encoding="utf-8")
    # The search loads its index as a script: a page opened from file:// may not fetch() a file beside it.
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    (root / "search-index.js").write_text(f"window.gitregIndex = {safe};\n", encoding="utf-8")
    (root / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    (root / MARKER).write_text(f"{catalog.ref} {catalog.commit or ''}\n", encoding="utf-8")
    return pages


def _versions_of(catalog: Catalog) -> dict[str, set[int]]:
    return {m.name: {v.number for v in m.versions} for m in catalog.models}


def _facets(models: list[ModelInfo]) -> dict[str, list[str]]:
    owners = sorted({str(o) for m in models for o in m.data.get("owners", [])})
    tags = sorted({f"{k}={v}" for m in models for k, v in m.data.get("tags", {}).items()})
    frameworks = sorted({m.framework for m in models if m.framework})
    return {"owner": owners, "tag": tags, "framework": frameworks}


def _index(catalog: Catalog) -> dict[str, Any]:
    models = []
    for m in catalog.models:
        latest = m.latest
        models.append(
            {
                "name": m.name,
                "description": str(m.data.get("description", "")),
                "owners": [str(o) for o in m.data.get("owners", [])],
                "tags": [f"{k}={v}" for k, v in m.data.get("tags", {}).items()],
                "framework": m.framework,
                "stages": m.stages,
                "latest": latest.number if latest else None,
                "versions": len(m.versions),
                "url": f"models/{m.name}/",
            }
        )
    return {"ref": catalog.ref, "commit": catalog.commit, "stages": catalog.stages, "models": models}


def _model_context(model: ModelInfo) -> dict[str, Any]:
    held: dict[int, list[str]] = {}
    for stage, number in model.stages.items():
        held.setdefault(number, []).append(stage)
    names = model.metric_names()
    charts = [(name, chart(name, model.series(name), held, model.name)) for name in names]
    chain: list[VersionInfo] = []
    by_number = {v.number: v for v in model.versions}
    current = model.latest
    while current is not None and current.number not in {c.number for c in chain}:
        chain.append(current)
        parent = current.data.get("lineage", {}).get("parent")
        current = by_number.get(parent) if isinstance(parent, int) else None
    return {"key_metrics": names[:KEY_METRICS], "charts": charts, "chain": chain}


def _audit_context(catalog: Catalog) -> dict[str, Any]:
    entries = catalog.audit
    flagged = [e for e in entries if e.flags]
    return {
        "entries": entries,
        "flagged": flagged,
        "direct": sum("direct-push" in e.flags for e in entries),
        "invalid": sum("invalid" in e.flags for e in entries),
        "unconfirmed": sum(UNCONFIRMED in e.flags for e in entries),
        "how_to_confirm": HOW_TO_CONFIRM,
        "evidence": catalog.evidence,
        "note": catalog.history_note,
        "versions_of": _versions_of(catalog),
    }
