"""The command line's wording of the library's errors. An error about an argument names it as the Python
API does (``branch=NAME``, ``unstage=True``, ``forge='github'``) and says which one in ``argument``; here
the command line says it its own way (``--branch NAME``, ``--unstage``, ``--forge github``)."""

from __future__ import annotations

import re

from gitreg.errors import GitregError

#: Each Python keyword an error may name, and the option that stands for it on the command line.
FLAGS = {
    "base": "--base",
    "branch": "--branch",
    "forge": "--forge",
    "owners": "--owner",
    "parent": "--parent",
    "unstage": "--unstage",
    "version": "--version",
}


def worded(error: GitregError) -> str:
    """The error's text as the command line says it."""
    flag = FLAGS.get(error.argument or "")
    if flag is None or error.argument is None:
        return str(error)
    message = _flagged(error.message, error.argument, flag, hint=False)
    if not error.hint:
        return message
    return f"{message} ({_flagged(error.hint, error.argument, flag, hint=True)})"


def _flagged(text: str, keyword: str, flag: str, *, hint: bool) -> str:
    """``keyword=True`` becomes ``flag``, ``keyword=VALUE`` ``flag VALUE``; in a hint, a quoted word given
    as a value is an option's choice and loses its quotes (``--forge github``), as a shell would take it."""
    at = rf"(?<![\w-]){re.escape(keyword)}="
    text = re.sub(rf"{at}True\b", flag, text)
    if hint:
        text = re.sub(rf"{at}'(\w+)'", rf"{flag} \1", text)
    text = re.sub(rf"{at}(?=[^\s)])", f"{flag} ", text)
    return re.sub(at, flag, text)


__all__ = ["FLAGS", "worded"]
