"""The catalog: a static web site of the registry at one commit, for the people who never open a terminal.

``gather`` reads what the site shows (``gitreg.catalog.data``: models, versions, stage history and audit
flags, controllers' status files), ``charts`` draws each metric across versions as inline SVG at build time,
``site`` renders the pages with Jinja2 (autoescaping on) into a temporary folder and renames it into place,
and ``serve`` shows a build on 127.0.0.1. Nothing a page shows is loaded from the network."""

from __future__ import annotations

from gitreg.catalog.site import BuildResult, build

__all__ = ["BuildResult", "build"]
