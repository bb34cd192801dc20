"""Importers: bring models from another registry into a gitreg registry. Each importer is a package of its
own (``mlflow``), imported only by its command, whose optional client library is an extra."""
