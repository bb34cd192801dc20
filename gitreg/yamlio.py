"""The one YAML loader and dumper gitreg uses.

Loading is safe (no Python objects), C-accelerated where libyaml is present, rejects duplicate keys and
anchors/aliases (so a "billion laughs" document fails at once instead of expanding), and keeps the line and
column of every mapping key and sequence item so that findings can point into the file.

Scalars follow YAML 1.2's core schema where YAML 1.1 surprises people: only ``true``/``false`` are booleans
(``no`` stays the string "no"), dates stay strings (``created_at`` is text, not a datetime), and an integer
is plain decimal digits with an optional minus: ``010`` (1.1's octal 8), ``0x0a``, ``0b1010``, ``1_0``,
``+10`` and ``1:30`` (1.1's base 60) stay the strings they look like, so a version number written that way
is a schema finding instead of a silently different number. An integer longer than ``MAX_INT_DIGITS`` is a
finding too (Python refuses to convert it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from gitreg.errors import ManifestError, Problem

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Key = tuple[str | int, ...]

#: Documents larger than this are refused before parsing: manifests are small, and a registry file this big
#: is a mistake (or an attack) whatever it holds.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024

#: The longest integer read, in digits: Python's default int-str conversion limit (which a process may
#: lower, or lift and become quadratic), fixed here so that every gitreg reads the same files alike.
MAX_INT_DIGITS = 4300


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader with the YAML 1.2-style implicit resolvers described in the module docstring."""


_INT = "tag:yaml.org,2002:int"
_REPLACED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float", _INT)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_DECIMAL = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_Loader.add_implicit_resolver(_INT, _DECIMAL, list("-0123456789"))
# YAML 1.2 floats: 1e-5 and 1.5e3 are numbers (YAML 1.1 wanted a dot); integers stay integers.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
        |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


class _Dumper(yaml.SafeDumper):
    """Safe dumper that never writes anchors and indents sequences the way people write them by hand.

    The pure-Python emitter, because libyaml's ignores the indentation override; manifests are small."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class Document:
    """A parsed YAML file: its data and where each key and item stands in the text.

    Positions are what a finding points at, and most files have none: a document loaded from text finds
    them (parsing the text again) the first time they are asked for."""

    __slots__ = ("_positions", "_source", "data", "path")

    def __init__(
        self,
        path: str,
        data: Any,
        positions: dict[Key, tuple[int, int]] | None = None,
        source: str | bytes | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self._positions = positions if positions is not None or source is not None else {}
        self._source = source

    @property
    def positions(self) -> dict[Key, tuple[int, int]]:
        if self._positions is None:
            self._positions = _positions(self._source or "", self.path)
            self._source = None
        return self._positions

    def position(self, key: Sequence[str | int]) -> tuple[int, int]:
        """Line and column (1-based) of ``key``, or of its nearest ancestor that has a position."""
        positions = self.positions
        k = tuple(key)
        while k:
            if k in positions:
                return positions[k]
            k = k[:-1]
        return positions.get((), (1, 1))

    def __repr__(self) -> str:
        return f"Document({self.path!r}, {self.data!r})"


def load(text: str | bytes, path: str) -> Document:
    """Parse one YAML document; raise ManifestError (with file:line:col) if it is not acceptable."""
    if len(text) > MAX_DOCUMENT_BYTES or (isinstance(text, str) and len(text.encode()) > MAX_DOCUMENT_BYTES):
        raise ManifestError([Problem(path, 1, 1, f"yaml: file is larger than {MAX_DOCUMENT_BYTES} bytes")])
    flat = _flat_mapping(text, path)
    if flat is not None:
        return flat
    return _load(text, path, positions=False)


def _positions(text: str | bytes, path: str) -> dict[Key, tuple[int, int]]:
    """The positions of a document ``load`` accepted: the same parse, recording where each key stands."""
    return _load(text, path, positions=True).positions


def _load(text: str | bytes, path: str, positions: bool) -> Document:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(path, None, {(): (1, 1)})
        builder = _Builder(loader, path)
        data = builder.build(node, () if positions else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        raise ManifestError([Problem(path, line, col, f"yaml: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([Problem(path, 1, 1, f"yaml: {exc}")]) from None
    finally:
        loader.dispose()
    return Document(path, data, builder.positions) if positions else Document(path, data, source=text)


# Values of up to 18 digits always fit; longer ones go to the full loader, which checks their length.
_FLAT_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*):[ \t]+(0|[1-9][0-9]{0,17})[ \t]*(?:#.*)?$")
_SKIP_LINE = re.compile(r"^[ \t]*(?:#.*)?$")


def _flat_mapping(text: str | bytes, path: str) -> Document | None:
    """A fast path for the commonest registry file, a stage file: ``name: integer`` lines, comments and
    blank lines only. Returns None (use the full loader) for anything else, and for any key that YAML
    would not read as a plain string (``null``, ``true``, ``1e3``...), so the result is always what the
    full loader would give."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    data: dict[str, int] = {}
    positions: dict[Key, tuple[int, int]] = {(): (1, 1)}
    for number, line in enumerate(text.split("\n"), start=1):
        match = _FLAT_LINE.match(line)
        if match is None:
            if _SKIP_LINE.match(line):
                continue
            return None
        key = match.group(1)
        if key in data or _Loader.resolve(_Loader, yaml.ScalarNode, key, (True, False)) != _STR:
            return None  # a duplicate (the full loader says where), or a key that is not a plain string
        if not data:
            positions[()] = (number, 1)  # the mapping starts at its first key, as the full loader says
        data[key] = int(match.group(2))
        positions[(key,)] = (number, 1)
    return Document(path, data, positions) if data else None


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Builder:
    """Builds plain data from the composed node graph in one walk (libyaml parses and composes), recording
    positions and refusing aliases, merge keys and duplicate keys on the way."""

    def __init__(self, loader: _Loader, path: str) -> None:
        self.loader = loader
        self.path = path
        self.positions: dict[Key, tuple[int, int]] = {}
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, key: Key | None) -> Any:
        """The data of ``node`` at ``key`` (None: positions are not recorded)."""
        if id(node) in self.seen:
            # The composer turns an alias into a second reference to the anchored node: any revisit is one.
            raise _problem(node, self.path, "anchors and aliases are not allowed in gitreg files")
        self.seen.add(id(node))
        if key is not None:
            mark = node.start_mark
            self.positions.setdefault(key, (mark.line + 1, mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            if key is None:
                return [self.build(item, None) for item in node.value]
            return [self.build(item, (*key, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return self.mapping(node, key)
        raise _problem(node, self.path, f"could not determine a constructor for the tag {node.tag!r}")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        if node.tag == _INT:  # resolved as one, or tagged !!int: either way plain decimal
            if not _DECIMAL.fullmatch(node.value):
                raise _problem(node, self.path, f"{node.value!r} is not an integer in plain decimal digits")
            digits = len(node.value.lstrip("-"))
            if digits > MAX_INT_DIGITS:
                message = f"an integer of {digits} digits is too long (at most {MAX_INT_DIGITS})"
                raise _problem(node, self.path, message)
            try:
                return int(node.value)
            except ValueError:  # a process started with a lower PYTHONINTMAXSTRDIGITS
                raise _problem(node, self.path, f"an integer of {digits} digits is too long") from None
        return self.loader.construct_object(node)  # ints, floats, booleans, null: PyYAML's own rules

    def mapping(self, node: yaml.MappingNode, key: Key | None) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                raise _problem(knode, self.path, "merge keys (<<) are not allowed in gitreg files")
            if not isinstance(knode, yaml.ScalarNode):
                raise _problem(knode, self.path, "mapping keys must be plain scalars")
            # keys compare by value, as the loaded mapping will: 1 and 0x1, true and True are one key
            name = self.scalar(knode)
            if name in result:
                raise _problem(knode, self.path, f"duplicate key {knode.value!r}")
            if key is None:
                result[name] = self.build(vnode, None)
            else:
                mark = knode.start_mark
                self.positions[(*key, name)] = (mark.line + 1, mark.column + 1)
                result[name] = self.build(vnode, (*key, name))
        return result


def _problem(node: yaml.Node, path: str, message: str) -> ManifestError:
    return ManifestError(
        [Problem(path, node.start_mark.line + 1, node.start_mark.column + 1, f"yaml: {message}")]
    )


def dump(data: Any) -> str:
    """Serialize plain data as block-style YAML, keys in the order given."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
    return text
