"""Small value classes for what runs on every read and every poll, without the ``dataclasses`` module:
importing it loads ``inspect``, ``ast`` and ``dis`` (5-9 ms a process on a 2-core machine, about a fifth of
``gitreg show``), and each ``@dataclass`` compiles its methods at import. A subclass names its fields, in
order, in ``__match_args__`` (and ``__slots__ = __match_args__``), annotates them, and writes its
``__init__``, which sets them with ``set_fields``. It then has what ``@dataclass`` gave: ``repr`` as
``Name(field=value, ...)``, equality with an instance of the same class, field by field, and, for a
``Frozen`` one, a hash and no assignment after ``__init__``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name alike)
if TYPE_CHECKING:
    from typing import Any


class Value:  # noqa: PLW1641 - unhashable on purpose: equal by value and mutable
    """A mutable value: ``repr`` and equality from its ``__slots__``; not hashable."""

    #: The fields, in order (as ``@dataclass`` sets it); a subclass's ``__slots__`` is the same tuple.
    __match_args__: tuple[str, ...] = ()
    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    # No __hash__: a class that defines __eq__ alone is unhashable, as a plain (mutable) @dataclass.

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._fields())


class Frozen(Value):
    """An immutable value, as ``@dataclass(frozen=True)``: hashable, fields set once by ``set_fields``."""

    __match_args__ = ()
    __slots__ = __match_args__

    def __hash__(self) -> int:
        return hash(self._fields())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")


def set_fields(value: Value, *fields: object) -> None:
    """Set ``value``'s fields, in the order of its ``__match_args__`` (a ``Frozen`` one too)."""
    for name, field in zip(value.__match_args__, fields, strict=True):
        object.__setattr__(value, name, field)


__all__ = ["Frozen", "Value", "set_fields"]
