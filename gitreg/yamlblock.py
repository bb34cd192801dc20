"""A quick reader for the commonest shape of registry file, for walks that parse thousands of them.

``data`` reads a document made only of block mappings (``key: value`` lines nested by indentation) whose
values are one-line scalars in a few conservative forms: plain text from a small character set, quoted
text without escapes, and one-line flow lists of such items. It resolves plain scalars exactly as
``gitreg.yamlio``'s loader does (the same resolvers: YAML 1.2-style booleans, decimal integers, floats,
null) and gives the same data. Anything else (anchors, aliases, tags, merge keys, duplicate keys, comments
after a value, multi-line scalars, block lists, tabs, CR, non-ASCII text, directives or document markers,
an empty document) gives ``None``: read it with ``yamlio.load``, which accepts it or says what is wrong. So
a caller that falls back on None gets exactly what ``yamlio.load(...).data`` gives, without positions
(they are only needed for findings: the full loader gives them). tests/test_yamlblock.py holds it to the
loader on many mutations of real files, and tests/test_yamlblock_quick.py its quick line reader to the
general one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gitreg.yamlio import MAX_DOCUMENT_BYTES, _Loader

#: A line that is a key, a colon and maybe a value (the key: letters first, then a few plain characters).
_LINE = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_.-]*):(?: +([^ ].*)| *)")  # the value: trailing spaces cut off
#: A blank line, or a comment alone on its line.
_SKIP = re.compile(r" *(?:#.*)?")
# A plain scalar in block context: no indicator first, then characters that cannot end it or start a
# comment, nothing that names an anchor, alias or tag (``_plain`` adds: no ": ", no ":" or " " at the end,
# a "-" first only before a letter, digit, "." or "_").
_PLAIN = re.compile(r"[A-Za-z0-9_./+~-][A-Za-z0-9 _.+/~@<>()=;$^?,:-]*")
_AFTER_DASH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")
_DOUBLE = re.compile(r'"([ !#-\[\]-~]*)"')  # no escapes, printable ASCII
_SINGLE = re.compile(r"'([ -&(-~]*)'")  # no doubled quote, printable ASCII
_ITEM = r"""(?:"[ !#-\[\]-~]*"|'[ -&(-~]*'|[A-Za-z0-9_.][A-Za-z0-9_.-]*)"""
_FLOW = re.compile(rf"\[ *(?:{_ITEM}(?: *, *{_ITEM})* *)?\]")
_ITEMS = re.compile(_ITEM)
#: Plain integers read here (longer ones: the full loader, which checks their length).
_MAX_DIGITS = 18

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

#: Said for "not read here": a value can be None (YAML's null).
_NO = object()


def data(text: str | bytes) -> Any:
    """The data ``yamlio.load(text, ...)`` gives, or None when the text is not in the quick form (then
    read it with ``yamlio.load``; None is never a document's data here: an empty document is not read)."""
    plain = _ascii(text)
    if plain is None:
        return None
    read = _SHAPES.read(plain)
    if read is None:
        read = _read(plain)
        if read is not None:
            _SHAPES.learn(plain, read)
    return read


def _read(plain: str) -> Any:
    """``data`` of an ASCII text, a line at a time."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]
    level, mapping = 0, root  # the top of the stack: the mapping lines at this indentation go into
    pending: tuple[dict[str, Any], str, int] | None = None  # a key with no value on its line
    known, blank, open_ = _LINES.get, _BLANK, _OPEN  # (locals: this loop runs for every line of a walk)
    for line in plain.split("\n"):
        read = known(line)
        if read is None:
            read = _read_new_line(line)
            if read is None:
                return None
        if read is blank:
            continue
        indent, key, value = read
        if pending is not None:
            into, name, above = pending
            pending = None
            if indent > above:
                child: dict[str, Any] = {}
                into[name] = child
                stack.append((indent, child))
                level, mapping = indent, child
        if indent != level:
            while stack[-1][0] > indent:
                stack.pop()
            level, mapping = stack[-1]
            if level != indent:
                return None  # bad indentation
        if key in mapping:
            return None  # a duplicate key
        if value is open_:
            pending = (mapping, key, indent)
            value = None  # null unless more indented lines follow; keeps the key's place in the order
        mapping[key] = value
    return root if root else None


def _read_new_line(line: str) -> Any:
    """``_read_line``, kept in ``_LINES`` (unless its value is a list or mapping: built anew each time)."""
    read = _read_quick_line(line) or _read_line(line)
    if read is not None and (read is _BLANK or not isinstance(read[2], list | dict)):
        if len(_LINES) >= _MAX_LINES:
            _LINES.clear()
        _LINES[line] = read
    return read


def _read_line(line: str) -> Any:
    """(indent, key, value or _OPEN) of a ``key: value`` line, _BLANK for a blank or comment line, None
    for a line not in the quick form (or a key YAML reads as other than a string)."""
    match = _LINE.fullmatch(line)
    if match is None:
        return _BLANK if _SKIP.fullmatch(line) else None
    indent, key, raw = match.groups()
    if _resolve(key) != _STR:
        return None
    value = _OPEN if raw is None else _value(raw.rstrip(" "))
    return None if value is _NO else (len(indent), key, value)


def _read_quick_line(line: str) -> Any:
    """``_read_line`` of a line whose value is in one of the commonest forms (``_QUICK``: one regular
    expression says which, instead of a call for each test), else None (``_read_line`` says)."""
    match = _QUICK.fullmatch(line)
    if match is None:
        return None
    indent, key = match.group(1, 2)
    if _resolve(key) != _STR:
        return None
    form = match.lastindex or 0  # (groups 1 and 2 always match: it is one of 3 to 7)
    raw = match.group(form)
    return len(indent), key, raw if form < _QUICK_INT else int(raw) if form == _QUICK_INT else float(raw)


#: Lines met lately (the same lines recur from file to file) as ``_read_line`` reads them, and at most how
#: many (lines with a list or mapping value are not kept: the caller gets a new one each time).
_LINES: dict[str, Any] = {}
_MAX_LINES = 8192
_BLANK = object()
_OPEN = object()  # a key with no value on its line


#: The first characters of plain scalars that some implicit resolver may read as other than a string.
_RESOLVED_FIRST = frozenset(
    first for first, resolvers in _Loader.yaml_implicit_resolvers.items() if resolvers
)


def _ascii(text: str | bytes) -> str | None:
    """The text, if it is ASCII (and not too large for the loader)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        return None
    if isinstance(text, bytes):
        try:
            return text.decode("ascii")
        except UnicodeDecodeError:
            return None
    return text if text.isascii() else None


def _resolve(plain: str) -> str:
    """The tag the loader gives ``plain`` (a plain scalar, not empty)."""
    if plain[0] not in _RESOLVED_FIRST and None not in _RESOLVED_FIRST:
        return _STR  # no resolver looks at it: the loader's own test, done once instead of per scalar
    tag = _TAGS.get(plain)
    if tag is None:
        if len(_TAGS) >= _MAX_TAGS:
            _TAGS.clear()
        # the loop of the loader's ``resolve`` for an implicit plain scalar, without its call overhead
        tag = next((t for t, regexp in _RESOLVERS.get(plain[0], _WILDCARD) if regexp.match(plain)), _STR)
        _TAGS[plain] = tag
    return tag


#: The loader's implicit resolvers by first character, each list followed by those for any character, as
#: ``BaseResolver.resolve`` tries them (tests/test_yamlblock.py checks the two agree).
_WILDCARD = tuple(_Loader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS = {
    first: (*resolvers, *_WILDCARD) for first, resolvers in _Loader.yaml_implicit_resolvers.items() if first
}

#: The first characters of a plain scalar that no resolver looks at: the scalar is a string (see _resolve).
_STRING_FIRST = (
    ""
    if None in _RESOLVED_FIRST
    else "".join(
        c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/" if c not in _RESOLVED_FIRST
    )
)
#: A plain scalar's characters after its first (``_PLAIN``'s, but for the space and the colon).
_PLAIN_NEXT = "A-Za-z0-9_.+/~@<>()=;$^?,-"
#: A ``key: value`` line (no trailing space) whose value is, by group: 3, text in double quotes without
#: escapes; 4, in single quotes without doubled quotes; 5, a plain scalar that is a string (a first
#: character no resolver looks at, or a digit and then a character no number has; no ": ", no " #", no ":"
#: or space at the end); 6, a decimal integer the loader reads as one (at most ``_MAX_DIGITS`` digits);
#: 7, a decimal fraction (the float resolver's first form, without exponent or underscores).
_FORMS = {
    3: r'"([ !#-\[\]-~]*)"',
    4: r"'([ -&(-~]*)'",
    5: rf"((?:[{_STRING_FIRST}]|[0-9][0-9_.eE+-]*[A-DF-Za-df-z/~@<>()=;$^?,])[{_PLAIN_NEXT}]*"
    rf"(?:(?: +|:)[{_PLAIN_NEXT}]+)*)",
    6: rf"(-?(?:0|[1-9][0-9]{{0,{_MAX_DIGITS - 1}}}))",
    7: r"(-?[0-9]+\.[0-9]+)",
}
_QUICK = re.compile(
    r"( *)([A-Za-z_][A-Za-z0-9_.-]*): +(?:" + "|".join(_FORMS.values()) + ")"
    if _STRING_FIRST
    else r"(?!)"  # a loader that resolves any first character: no quick form
)
_QUICK_INT = 6

#: Tags of the plain scalars met lately (keys and common values repeat from file to file), at most how many.
_TAGS: dict[str, str] = {}
_MAX_TAGS = 4096


def _value(raw: str) -> Any:
    """The value of a one-line scalar or flow list, or _NO when it is not in a form read here."""
    first = raw[0]
    if first in "\"'":
        quoted = (_DOUBLE if first == '"' else _SINGLE).fullmatch(raw)
        return _NO if quoted is None else quoted.group(1)
    if raw == "{}":
        return {}
    if first == "[":
        if _FLOW.fullmatch(raw) is None:
            return _NO
        items = [_value(item) for item in _ITEMS.findall(raw)]
        return _NO if any(item is _NO for item in items) else items
    if not _plain(raw):
        return _NO
    return _scalar(raw)


def _plain(raw: str) -> bool:
    """Whether ``raw`` is a plain scalar in the form read here (see ``_PLAIN``)."""
    if _PLAIN.fullmatch(raw) is None or ": " in raw or raw.endswith((":", " ")):
        return False
    return raw[0] != "-" or (len(raw) > 1 and raw[1] in _AFTER_DASH)


def _scalar(plain: str) -> Any:
    """A plain scalar as the loader constructs it (its resolvers, PyYAML's constructors)."""
    tag = _resolve(plain)
    if tag == _STR:
        return plain
    if tag == _INT:
        return int(plain) if len(plain.lstrip("-")) <= _MAX_DIGITS else _NO
    if tag == _BOOL:
        return plain.lower() == "true"
    if tag == _NULL:
        return None
    if tag == _FLOAT:
        value = plain.replace("_", "").lower()
        sign = -1.0 if value.startswith("-") else 1.0
        value = value.lstrip("+-")
        if value == ".inf":
            return sign * float("inf")
        if value == ".nan":
            return float("nan")
        return sign * float(value)
    return _NO  # a merge key, "=", anything else: the full loader says


#: A line's value in a layout: by the form it had where the layout was learnt (``_QUICK``'s groups 3-7, or
#: ``_GENERAL``: not quick), its pattern (its groups) and its value as ``_read`` gives it (a quick form's as
#: ``_read_quick_line`` converts it, any other as ``_value`` reads it). A quick plain string's slot (form 5)
#: is a general one, which takes a quick plain string first: the same writer's strings are quick or not by
#: their first character (a commit id starting with ``f`` is not, for ``false``), and a layout is the same
#: for both. Each slot is an atomic
#: group, and its quick form must end the line: a slot matches one way or not at all, so a document that
#: does not match fails at once, never trying its lines' values again in other ways (a crafted document
#: cannot make the match take long).
_GENERAL, _OPEN_FORM = 8, 0
_TEXT = (
    rf"(?>{_FORMS[5]}(?=\n|\Z)|([^ \n][^\n]*))"  # the rest of the line: trailing spaces cut off in _general
)
_SLOT = {
    3: (f"(?>{_FORMS[3]})", "{0}"),
    4: (f"(?>{_FORMS[4]})", "{0}"),
    6: (f"(?>{_FORMS[6]})", "int({0})"),
    7: (f"(?>{_FORMS[7]})", "float({0})"),
    _GENERAL: (_TEXT, "({0} if {0} is not None else _general({1}))"),
}
_GROUPS = {3: 1, 4: 1, 6: 1, 7: 1, _GENERAL: 2}  # each slot's groups (tests/test_yamlblock_shapes.py)
#: Layouts tried for each document (the last one read first), layouts known at most (by their lines'
#: indents, keys and forms), and documents of no layout after which no more are tried.
_RECENT_SHAPES = 3
_MAX_SHAPES = 64
_MAX_MISSES = 256

Shape = tuple["re.Pattern[str]", Callable[[tuple[str, ...]], dict[str, Any]]]


class _NotQuick(Exception):
    """A value in a slot that ``_value`` does not read."""


def _general(line_end: str) -> Any:
    """``_value`` of a slot's value (the rest of its line), as ``_read_line`` reads it."""
    raw = line_end.rstrip(" ")
    value = _GENERAL_VALUES.get(raw, _NO)
    if value is _NO:
        value = _value(raw)
        if value is _NO:
            raise _NotQuick
        if not isinstance(value, list | dict):  # (a list or mapping is built anew each time)
            if len(_GENERAL_VALUES) >= _MAX_TAGS:
                _GENERAL_VALUES.clear()
            _GENERAL_VALUES[raw] = value
    return value


#: The values of general slots met lately (``type: file`` recurs from file to file).
_GENERAL_VALUES: dict[str, Any] = {}


class _Shapes:
    """The layouts of the documents read lately, each as one regular expression and a function that builds
    the data from its groups: most files a walk reads were written by the same code (every version manifest
    ``gitreg register`` writes has the same keys, indents and kinds of value), so a document of a layout met
    before is read by one match and one call instead of a loop over its lines.

    A layout is learnt from a document made only of ``key: value`` and ``key:`` lines (no blank line, no
    comment), each line's value matched by the pattern of its form: a quick form's (``_QUICK``), else any
    text (read by ``_value``, as ``_read`` reads it). A document it matches has the same keys at the same
    indents, so ``_read`` nests them alike, and values of the same forms, which ``_read`` reads alike (its
    quick lines agree with ``_value``: tests/test_yamlblock_quick.py). A layout is kept only if it gives back
    what ``_read`` gave the document it was learnt from."""

    def __init__(self) -> None:
        self.recent: list[Shape] = []
        self.known: dict[tuple[tuple[str, str, int], ...], Shape | None] = {}
        self.misses = 0

    def read(self, plain: str) -> Any:
        """The data of a document of a recent layout, else None."""
        for index, (pattern, build) in enumerate(self.recent):
            found = pattern.fullmatch(plain)
            if found is not None:
                if index:
                    self.recent.insert(0, self.recent.pop(index))
                try:
                    return build(found.groups())
                except _NotQuick:
                    return None
        return None

    def learn(self, plain: str, read: Any) -> None:
        """Keep the layout of ``plain``, which ``_read`` read as ``read``, if it has one to keep."""
        if self.misses >= _MAX_MISSES:
            return
        lines = plain.split("\n")
        if lines[-1] == "":
            lines.pop()
        layout = []
        for line in lines:
            found = _QUICK.fullmatch(line)
            if found is not None:
                form = found.lastindex or 0
            else:
                found = _LINE.fullmatch(line)
                if found is None:
                    self.misses += 1
                    return  # a blank line, a comment or a list item: read a line at a time
                form = _OPEN_FORM if found.group(3) is None else _GENERAL
            layout.append((found.group(1), found.group(2), _GENERAL if form == 5 else form))
        signature = tuple(layout)
        shape = self.known.get(signature, _NO)
        if shape is _NO:
            if len(self.known) >= _MAX_SHAPES:
                self.misses += 1
                return
            shape = self.known[signature] = _shape(signature, plain, read)
        if isinstance(shape, tuple) and shape not in self.recent:
            self.recent.insert(0, shape)
            del self.recent[_RECENT_SHAPES:]


def _shape(layout: tuple[tuple[str, str, int], ...], plain: str, read: Any) -> Shape | None:
    """The pattern and builder of ``layout`` (None if they do not give back ``read`` for ``plain``)."""
    lines = []
    for indent, key, form in layout:
        head = re.escape(f"{indent}{key}:")
        lines.append(f"{head} +{_SLOT[form][0]}" if form else f"{head} *+")
    pattern = re.compile("\n".join(lines) + "\n?")
    # the nesting ``_read`` gives these lines, each value an expression of its slot's group
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]
    level, mapping = 0, root
    pending: tuple[dict[str, Any], str, int] | None = None
    slots = 0
    for indent, key, form in layout:
        width = len(indent)
        if pending is not None:
            into, name, above = pending
            pending = None
            if width > above:
                into[name] = mapping = {}
                stack.append((width, mapping))
                level = width
        if width != level:
            while stack[-1][0] > width:
                stack.pop()
            level, mapping = stack[-1]
            if level != width:
                return None
        if form:
            value, groups = _SLOT[form][1], _GROUPS[form]
            mapping[key] = value.format(*(f"g[{slots + n}]" for n in range(groups)))
            slots += groups
        else:
            pending = (mapping, key, width)
            mapping[key] = "None"
    # the code is built from keys _QUICK or _LINE matched (letters, digits, "_.-") and the expressions above
    build = eval(f"lambda g: {_code(root)}", {"_general": _general})  # noqa: S307
    found = pattern.fullmatch(plain)
    try:
        if found is None or repr(build(found.groups())) != repr(read):
            return None
    except _NotQuick:
        return None
    return pattern, build


def _code(mapping: dict[str, Any]) -> str:
    """A dict display building ``mapping`` (whose leaves are expressions)."""
    items = (
        f"{key!r}: {_code(value) if isinstance(value, dict) else value}" for key, value in mapping.items()
    )
    return "{" + ", ".join(items) + "}"


_SHAPES = _Shapes()
