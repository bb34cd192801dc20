"""Claim: `gitreg import mlflow` moves versions out of an MLflow server in a small multiple of the time of
MLflow's own `mlflow.artifacts.download_artifacts` of the same versions, and its memory does not grow with
the size of a version (files stream to disk and into the store; none is held in memory).

    .venv/bin/python benchmarks/mlflow_import.py --models 10 --versions 10 --big-mib 1024 --repeat 3

A real `mlflow server` (SQLite backend, artifacts served by the server) is started in the work folder and
populated through MLflow's client: `--models` x `--versions` small model folders (an MLmodel file and three
more files, nested), and one model with one version holding a `--big-mib` file. Then, as child processes in
interleaved rounds: the import of the small versions (all models, `--model` each) into a new registry and
an empty store, against one Python process calling `download_artifacts` on `models:/NAME/V` for each of the
same versions; and the same pair for the big version. The peak RSS of each child is reported."""

from __future__ import annotations

import shutil
import sys
from functools import partial
from itertools import count
from pathlib import Path

from _harness import MIB, Case, gitreg_executable, measure, parser, random_file, report, run_child, session

from gitreg.ops.init import init
from testing.mlflow_server import add_version, model_folder, start_mlflow

BASELINE = """
import sys, tempfile
import mlflow, mlflow.artifacts
uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as dst:
    for item in sys.argv[3:]:
        mlflow.artifacts.download_artifacts(
            artifact_uri="models:/" + item, dst_path=dst + "/" + item, tracking_uri=uri, registry_uri=uri
        )
"""


def populate(client: object, work: Path, models: int, versions: int, big_mib: int) -> tuple[list[str], str]:
    """The small versions as NAME/V items, and the big one's."""
    items = []
    for m in range(models):
        for v in range(versions):
            folder = model_folder(work / "src" / f"m{m}-{v}", m * 100 + v)
            number, _ = add_version(client, f"bench-{m}", folder, metrics={"auc": 0.5 + v / 100})
            items.append(f"bench-{m}/{number}")
    big = work / "src" / "big"
    model_folder(big, 0)
    random_file(big / "weights.bin", big_mib * MIB)
    number, _ = add_version(client, "bench-big", big)
    return items, f"bench-big/{number}"


def main() -> None:
    args_parser = parser(__doc__, repeat=3)
    args_parser.add_argument("--models", type=int, default=10)
    args_parser.add_argument("--versions", type=int, default=10, help="versions per model")
    args_parser.add_argument("--big-mib", type=int, default=1024, help="size of the big version's file")
    args = args_parser.parse_args()
    with session(args, "gitreg import mlflow vs mlflow.artifacts.download_artifacts") as work:
        import mlflow  # noqa: PLC0415 - the mlflow extra, needed by this benchmark only

        server = start_mlflow(work / "mlflow")
        try:
            client = mlflow.MlflowClient(tracking_uri=server.url, registry_uri=server.url)
            items, big = populate(client, work, args.models, args.versions, args.big_mib)
            baseline = work / "baseline.py"
            baseline.write_text(BASELINE)
            gitreg = gitreg_executable()
            rounds = count()
            registries: dict[str, Path] = {}

            def fresh(label: str) -> None:
                if label in registries:  # the last round's registry and store: a 1 GiB store each
                    shutil.rmtree(registries[label].parent)
                where = work / f"{label}-{next(rounds)}"
                registries[label] = init(where / "registry", str(where / "blobs"))[0]

            def gitreg_import(label: str, names: list[str]) -> object:
                models = [arg for name in names for arg in ("--model", name)]
                argv = [gitreg, "-C", registries[label], "import", "mlflow", "--tracking-uri", server.url]
                return run_child(*argv, *models, "-q")

            def download(names: list[str]) -> object:
                return run_child(sys.executable, baseline, server.url, work, *names)

            small_models = sorted({item.split("/")[0] for item in items})
            cases = [
                Case(
                    f"import {len(items)} versions",
                    partial(gitreg_import, "small", small_models),
                    partial(fresh, "small"),
                ),
                Case(f"download_artifacts {len(items)} versions", partial(download, items)),
                Case(
                    f"import 1 version of {args.big_mib} MiB",
                    partial(gitreg_import, "big", ["bench-big"]),
                    partial(fresh, "big"),
                ),
                Case(f"download_artifacts {args.big_mib} MiB", partial(download, [big])),
            ]
            timings = measure(cases, args.repeat, warmup=False)
            small = {k: v for k, v in timings.items() if "versions" in k}
            large = {k: v for k, v in timings.items() if "MiB" in k}
            print(f"\n{len(items)} versions of {args.models} models")
            report(small, [f"download_artifacts {len(items)} versions"])
            print(f"\none version of {args.big_mib} MiB")
            report(large, [f"download_artifacts {args.big_mib} MiB"], mib=args.big_mib)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
