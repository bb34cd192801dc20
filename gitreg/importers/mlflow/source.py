"""Reading an MLflow tracking server through MLflow's public client (``MlflowClient`` and the artifact
repositories), into plain records the rest of the importer works with. This is the only module of gitreg
that imports ``mlflow`` (the ``mlflow`` extra), and it does so when a ``Source`` is opened.

Registered models and versions are read with search calls, page by page, and then each version's own
record (``get_model_version``), since search results may lack aliases and tags. A version's run supplies
metrics, params and the source commit; a run that was deleted (or purged) is reported, not fatal.

A server that cannot be reached is reported at once: an HTTP tracking URI is probed once with a short
timeout before the client's own calls (which retry with back-off), and the client's retries are bounded
(``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` and ``..._BACKOFF_FACTOR``, when not set by the user)."""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gitreg.credentials import redact, redact_url
from gitreg.distribution import install_hint
from gitreg.errors import GitregError, NotFoundError, UsageError

#: How long the first probe of an HTTP tracking server may take.
PROBE_TIMEOUT = 10.0
#: MLflow's client settings while importing, unless the user set them: a few retries, not minutes of them,
#: and no progress bars of its own (gitreg shows its own, on a terminal only).
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
PAGE = 200
#: Requests to the server at once while reading records.
WORKERS = 8


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative POSIX path below the version's artifact folder
    size: int | None  # None where the artifact store does not list sizes


@dataclass(frozen=True)
class SourceRun:
    id: str
    url: str | None
    gone: str | None = None  # "deleted" or "purged" when the run is no longer there as it was
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    user: str = ""


@dataclass(frozen=True)
class SourceVersion:
    model: str  # the MLflow model name
    number: int
    created_ms: int
    user_id: str
    description: str
    tags: dict[str, str]
    current_stage: str
    status: str
    source: str
    run: SourceRun | None


@dataclass(frozen=True)
class SourceModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[SourceVersion]


class Source:
    """An MLflow tracking server (or any tracking URI MLflow's client accepts). Use it as a context
    manager: MLflow's client settings (``CLIENT_ENV``) apply inside it."""

    def __init__(self, tracking_uri: str) -> None:
        if not tracking_uri.strip():
            raise UsageError(
                "--tracking-uri is empty", "give the MLflow server's URL, such as http://host:5000"
            )
        self.uri = tracking_uri
        self.shown = redact_url(tracking_uri)
        try:
            from mlflow import MlflowClient  # noqa: PLC0415 - the optional extra, loaded by the importer only
        except ImportError:
            raise GitregError(
                "importing from MLflow needs the mlflow extra, which is not installed", install_hint("mlflow")
            ) from None
        _probe(tracking_uri, self.shown)
        with self.errors("open the tracking URI"):
            self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._repos: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Source:
        self._settings = client_settings()
        self._settings.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._settings.__exit__(None, None, None)

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """MLflow's and requests' exceptions as one GitregError line naming what failed."""
        try:
            yield
        except GitregError:
            raise
        except Exception as exc:
            text = " ".join(str(exc).split())[:300] or type(exc).__name__
            if _error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError(f"MLflow at {self.shown}: cannot {what}: {text}") from None
            raise GitregError(
                f"MLflow at {self.shown}: cannot {what}: {redact(text)}",
                "check --tracking-uri, the server and your MLflow credentials, then run the import again",
            ) from None

    # --- registered models and versions -------------------------------------------------------------------

    def model_names(self, wanted: list[str]) -> list[str]:
        """The names of the registered models to import: ``wanted`` (each must exist), or all of them."""
        if wanted:
            for name in wanted:
                with self.errors(f"read registered model {name!r}"):
                    self.client.get_registered_model(name)
            return list(dict.fromkeys(wanted))
        names: list[str] = []
        token: str | None = None
        with self.errors("list registered models"):
            while True:
                page = self.client.search_registered_models(max_results=PAGE, page_token=token)
                names += [m.name for m in page]
                token = page.token
                if not token:
                    return sorted(names)

    def model(self, name: str) -> SourceModel:
        with self.errors(f"read registered model {name!r}"):
            registered = self.client.get_registered_model(name)
            numbers = self._version_numbers(name)
            # each version's record and run: requests that wait on the server, a few at a time
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                versions = list(pool.map(lambda n: self._version(name, n), sorted(numbers)))
            return SourceModel(
                name=name,
                description=registered.description or "",
                tags=dict(registered.tags or {}),
                aliases={alias: int(v) for alias, v in (registered.aliases or {}).items()},
                versions=versions,
            )

    def _version_numbers(self, name: str) -> list[int]:
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        found: list[int] = []
        token: str | None = None
        while True:
            page = self.client.search_model_versions(
                filter_string=f"name = '{quoted}'", max_results=PAGE, page_token=token
            )
            found += [int(v.version) for v in page if v.name == name]
            token = page.token
            if not token:
                return sorted(set(found))

    def _version(self, name: str, number: int) -> SourceVersion:
        mv = self.client.get_model_version(name, str(number))
        return SourceVersion(
            model=name,
            number=number,
            created_ms=int(mv.creation_timestamp or 0),
            user_id=mv.user_id or "",
            description=mv.description or "",
            tags=dict(mv.tags or {}),
            current_stage=mv.current_stage or "None",
            status=mv.status or "READY",
            source=mv.source or "",
            run=self._run(mv.run_id, mv.run_link or None) if mv.run_id else None,
        )

    def _run(self, run_id: str, link: str | None) -> SourceRun:
        try:
            run = self.client.get_run(run_id)
        except Exception as exc:
            if _error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
                raise
            return SourceRun(run_id, link, gone="purged")
        url = link or self._run_url(run.info.experiment_id, run_id)
        return SourceRun(
            id=run_id,
            url=url,
            gone="deleted" if run.info.lifecycle_stage == "deleted" else None,
            metrics=dict(run.data.metrics or {}),
            params=dict(run.data.params or {}),
            tags=dict(run.data.tags or {}),
            user=run.info.user_id or "",
        )

    def _run_url(self, experiment_id: str, run_id: str) -> str | None:
        if not self.uri.startswith(("http://", "https://")):
            return None
        return f"{self.shown.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"

    # --- artifacts ----------------------------------------------------------------------------------------

    def files(self, name: str, number: int) -> list[SourceFile]:
        """Every file of a version's artifact folder, with its size, sorted by path."""
        with self.errors(f"list the artifacts of {name!r} version {number}"):
            repo = self._repo(name, number)
            found: list[SourceFile] = []
            pending = [""]
            while pending:
                folder = pending.pop()
                for info in repo.list_artifacts(folder or None):
                    if info.is_dir:
                        pending.append(info.path)
                    else:
                        found.append(
                            SourceFile(info.path, None if info.file_size is None else int(info.file_size))
                        )
            if not found:  # the version's source is a single file, not a folder
                raise GitregError(
                    f"MLflow model {name!r} version {number} has no artifact files to import",
                    "check the version's source in MLflow",
                )
            return sorted(found, key=lambda f: f.path)

    def listings(self, name: str, numbers: list[int]) -> dict[int, list[SourceFile] | NotFoundError]:
        """``files`` of several versions, a few at a time; where MLflow no longer finds them (a version
        whose run was purged), why."""

        def one(number: int) -> list[SourceFile] | NotFoundError:
            try:
                return self.files(name, number)
            except NotFoundError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return dict(zip(numbers, pool.map(one, numbers), strict=True))

    def download(self, name: str, number: int, path: str, folder: Path) -> Path:
        """Download one artifact file into ``folder`` (MLflow streams it to disk); the local path."""
        with self.errors(f"download {path!r} of {name!r} version {number}"):
            # ``_download_file`` is the one method every artifact repository (and plugin) implements; the
            # public ``download_artifacts`` first lists ``path`` to learn whether it is a folder: a second
            # request per file, for what the listing already said. ``path`` is checked by the caller.
            local = folder / PurePosixPath(path).name
            self._repo(name, number)._download_file(remote_file_path=path, local_path=str(local))
            return local

    def _repo(self, name: str, number: int) -> Any:
        key = (name, number)
        with self._lock:
            found = self._repos.get(key)
        if found is None:
            made = self._new_repo(key)
            with self._lock:
                found = self._repos.setdefault(key, made)
        return found

    def _new_repo(self, key: tuple[str, int]) -> Any:
        from mlflow.store.artifact.artifact_repository_registry import (  # noqa: PLC0415 - the extra
            get_artifact_repository,
        )

        uri = self.client.get_model_version_download_uri(key[0], str(key[1]))
        return get_artifact_repository(uri, tracking_uri=self.uri, registry_uri=self.uri)


@contextlib.contextmanager
def client_settings() -> Iterator[None]:
    """``CLIENT_ENV`` in the environment for MLflow's client, where the user did not set a value."""
    added = {k: v for k, v in CLIENT_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _probe(uri: str, shown: str) -> None:
    """Fail fast when an HTTP tracking server does not answer (any HTTP answer will do)."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT):  # noqa: S310 - http(s) only, checked above
            pass
    except urllib.error.HTTPError:
        return  # it answered: the client's own calls say what is wrong
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLError):
            return  # it answered; MLflow's client has TLS settings of its own (MLFLOW_TRACKING_INSECURE_TLS)
        raise GitregError(
            f"cannot reach MLflow at {shown}: {reason}",
            "check --tracking-uri and that the server is running",
        ) from None


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


__all__ = ["Source", "SourceFile", "SourceModel", "SourceRun", "SourceVersion"]
