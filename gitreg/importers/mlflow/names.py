"""How an MLflow model name becomes a gitreg model name.

MLflow accepts almost any text ("Fraud Detector", "team/churn.v2"); a gitreg name is 1-64 lowercase letters,
digits, '.', '_' or '-', starting and ending with a letter or digit (it is a folder name). The rule:

1. lowercase the name;
2. replace every run of other characters (spaces, '/', ':', accents, ...) with one '-';
3. strip '.', '_' and '-' from both ends;
4. refuse the result if it is empty, longer than 64 characters, or not a portable file name (``con``,
   ``aux``, ...), or if two MLflow models in the same import map to the same name.

A mapped name is recorded in the model's model.yaml as the tag ``mlflow.name`` (the MLflow name), so a later
import finds the model again, and a gitreg model that holds another MLflow name is never written to."""

from __future__ import annotations

import re

from gitreg.errors import UsageError
from gitreg.manifest import name_error

#: The tag of model.yaml that records which MLflow model a gitreg model was imported from.
NAME_TAG = "mlflow.name"
RULE = (
    "gitreg maps an MLflow name by lowercasing it and replacing each run of characters other than "
    "a-z, 0-9, '.', '_' and '-' with '-'; the result must be 1-64 characters and a portable file name"
)
_OTHER = re.compile(r"[^a-z0-9._-]+")


def gitreg_name(mlflow_name: str) -> str:
    """The gitreg name of an MLflow model, or UsageError that states the rule."""
    mapped = _OTHER.sub("-", mlflow_name.lower()).strip("._-")
    if not mapped or name_error(mapped) is not None:
        shown = mlflow_name if len(mlflow_name) <= 80 else mlflow_name[:77] + "..."
        raise UsageError(
            f"MLflow model {shown!r} has no valid gitreg name ({mapped[:80]!r} is not one)",
            f"{RULE}; leave it out with --model, or rename it in MLflow",
        )
    return mapped


def map_names(mlflow_names: list[str]) -> dict[str, str]:
    """MLflow name -> gitreg name for the models of one import; two that map to one name are refused."""
    mapped: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in mlflow_names:
        target = gitreg_name(name)
        if target in taken:
            raise UsageError(
                f"MLflow models {taken[target]!r} and {name!r} both map to the gitreg name {target!r}",
                f"{RULE}; import them one at a time with --model after renaming one in MLflow",
            )
        taken[target] = name
        mapped[name] = target
    return mapped
