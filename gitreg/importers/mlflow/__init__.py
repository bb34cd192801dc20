"""``gitreg import mlflow``: registered models, versions, aliases (and legacy stages), tags, descriptions,
runs and artifacts from an MLflow tracking server into a gitreg registry. MLflow's client is the
``mlflow`` extra; only ``source`` imports it.

    plan.py       what an import will do (``--dry-run`` prints it)
    names.py      MLflow names -> gitreg names
    source.py     reading MLflow through its client
    transfer.py   artifacts into the blob store, hashed as they are stored
    manifests.py  the files written
    run.py        the import, start to end"""

from gitreg.importers.mlflow.run import ImportRequest, ImportResult, import_mlflow

__all__ = ["ImportRequest", "ImportResult", "import_mlflow"]
