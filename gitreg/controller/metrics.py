"""Prometheus metrics of one controller, in a registry of their own (never the global default one, so
two controllers in one process, as in tests, do not collide). Counters are counted as things happen;
the per-model gauges are read from the current status at scrape time, so they never go stale."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gitreg.controller.health import STATES, Verdict
from gitreg.controller.status import Status, parse_time

GIT_KINDS = ("ls-remote", "fetch")
RESULTS = ("unchanged", "applied", "partial", "invalid", "unreachable")


class Metrics:
    def __init__(self, status: Callable[[], Status]) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "gitreg_controller_reconciles", "Reconciles, by result.", ["result"], registry=self.registry
        )
        self.duration = Histogram(
            "gitreg_controller_reconcile_duration_seconds",
            "How long a reconcile took (a no-change poll included).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
            registry=self.registry,
        )
        self.git_requests = Counter(
            "gitreg_controller_git_requests",
            "Requests to the git remote, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.git_failures = Counter(
            "gitreg_controller_git_request_failures",
            "Requests to the git remote that failed, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.downloaded = Counter(
            "gitreg_controller_downloaded_bytes",
            "Artifact bytes downloaded and verified.",
            registry=self.registry,
        )
        for kind in GIT_KINDS:
            self.git_requests.labels(kind)
            self.git_failures.labels(kind)
        for result in RESULTS:
            self.reconciles.labels(result)
        self.registry.register(_StatusCollector(status))

    def watch_health(self, verdict: Callable[[], Verdict]) -> None:
        """Export the controller's health (ok, stuck, stale; see health.py), asked at scrape time."""
        self.registry.register(_HealthCollector(verdict))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _StatusCollector(Collector):
    def __init__(self, status: Callable[[], Status]) -> None:
        self.status = status

    def collect(self) -> Iterable[GaugeMetricFamily]:
        status = self.status()
        info = GaugeMetricFamily(
            "gitreg_controller_model_info",
            "One series per model in the target: its live and wanted version and its state.",
            labels=["model", "version", "wanted", "state"],
        )
        synced = GaugeMetricFamily(
            "gitreg_controller_model_synced",
            "1 if the model's live version is the wanted one.",
            labels=["model"],
        )
        for name, model in sorted(status.models.items()):
            info.add_metric([name, _label(model.live), _label(model.wanted), model.state], 1)
            synced.add_metric([name], 1 if model.state in ("synced", "retained") else 0)
        yield info
        yield synced
        commit = GaugeMetricFamily(
            "gitreg_controller_commit_info",
            "The observed and the applied commit.",
            labels=["observed", "applied"],
        )
        commit.add_metric(
            [
                status.observed.commit if status.observed else "",
                status.applied.commit if status.applied else "",
            ],
            1,
        )
        yield commit
        if status.applied is not None:
            applied = parse_time(status.applied.time).timestamp()
            yield GaugeMetricFamily(
                "gitreg_controller_last_apply_timestamp_seconds",
                "When a commit was last applied in full (Unix time).",
                value=applied,
            )
            yield GaugeMetricFamily(
                "gitreg_controller_seconds_since_last_apply",
                "Seconds since a commit was last applied in full.",
                value=max(time.time() - applied, 0.0),
            )


class _HealthCollector(Collector):
    def __init__(self, verdict: Callable[[], Verdict]) -> None:
        self.verdict = verdict

    def collect(self) -> Iterable[GaugeMetricFamily]:
        verdict = self.verdict()
        state = GaugeMetricFamily(
            "gitreg_controller_health",
            "1 for the controller's state: ok; stuck (the branch's tip was refused, the last good state is "
            "kept); stale (no successful poll for --stale-after seconds).",
            labels=["state"],
        )
        for name in STATES:
            state.add_metric([name], 1 if verdict.state == name else 0)
        yield state
        yield GaugeMetricFamily(
            "gitreg_controller_seconds_since_successful_poll",
            "Seconds since a poll last reached the remote and finished.",
            value=verdict.seconds_since_success,
        )


def _label(value: int | None) -> str:
    return "" if value is None else str(value)
