"""A small type-driven validator for the settings dataclasses of :mod:`agentkanban.config`.

Each field's resolved annotation says how to convert the raw (YAML or environment) value; its
metadata (:func:`checks`) adds bounds or a parser. Errors name the dotted path of the offending
key: ``config: dispatch.failure_limit: must be >= 1, got 0``.
"""

from __future__ import annotations

import operator
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import ValidationError


class Secret:
    """A token or signing secret. Its ``repr`` and ``str`` never show the value, so settings can be
    logged or printed in a traceback; ``get_secret_value()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:  # so an empty secret is falsy, as an empty string would be
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def checks(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
            min_length: int | None = None, parse: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Field metadata read by the validator: bounds, a minimum length, or a parser that replaces
    the type conversion (it gets the raw value and raises ``ValidationError``)."""
    given = {"ge": ge, "gt": gt, "le": le, "min_length": min_length, "parse": parse}
    return {k: v for k, v in given.items() if v is not None}


_T = TypeVar("_T")
_TRUE = {"true", "yes", "on", "1", "t", "y"}
_FALSE = {"false", "no", "off", "0", "f", "n"}


def _fail(path: str, problem: str) -> ValidationError:
    return ValidationError(f"config: {path}: {problem}")


def validate(cls: type[_T], raw: Any, path: str = "") -> _T:
    """Build the dataclass ``cls`` from a mapping of raw values, converting and checking each field."""
    if not isinstance(raw, Mapping):
        raise _fail(path or "(top level)", f"expected a mapping, got {_kind(raw)}")
    known = _fields_of(cls)
    prefix = f"{path}." if path else ""
    for key in raw:
        if key not in known:
            raise _fail(f"{prefix}{key}", _unknown(str(key), list(known)))
    values: dict[str, Any] = {}
    for name, (tp, checks, required) in known.items():
        where = f"{prefix}{name}"
        if name not in raw:
            if required:
                raise _fail(where, "required, but missing")
            continue
        parse = checks.get("parse")
        if parse is not None:
            try:
                value = parse(raw[name])
            except ValidationError as err:
                raise _fail(where, err.message) from None
        else:
            value = _convert(tp, raw[name], where)
        _check_bounds(value, raw[name], checks, where)
        values[name] = value
    return cls(**values)


_FIELDS: dict[type, dict[str, tuple[Any, dict[str, Any], bool]]] = {}


def _fields_of(cls: type) -> dict[str, tuple[Any, dict[str, Any], bool]]:
    """name -> (resolved type, checks, required), in declaration order."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = {f.name: (hints[f.name], dict(f.metadata),
                                 f.default is MISSING and f.default_factory is MISSING)
                        for f in fields(cls)}
    return _FIELDS[cls]


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        [inner] = [a for a in args if a is not type(None)]
        return _convert(inner, value, path)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _fail(path, f"expected a list, got {_kind(value)}")
        [item] = typing.get_args(tp)
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(path, f"expected a mapping, got {_kind(value)}")
        key_tp, item = typing.get_args(tp)
        return {_convert(key_tp, k, f"{path} key {k!r}"): _convert(item, v, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(tp, type) and is_dataclass(tp):
        return value if isinstance(value, tp) else validate(tp, value, path)
    return _SCALARS[tp](value, path)


def _to_str(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    raise _fail(path, f"expected a string, got {_kind(value)}; quote it in YAML")


def _to_int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise _fail(path, f"expected an integer, got {_kind(value)}")


def _to_float(value: Any, path: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _fail(path, f"expected a number, got {_kind(value)}")


def _to_bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in _TRUE | _FALSE:
        return str(value).strip().lower() in _TRUE
    raise _fail(path, f"expected true or false, got {_kind(value)}")


def _to_path(value: Any, path: str) -> Path:
    return value if isinstance(value, Path) else Path(_to_str(value, path))


def _to_secret(value: Any, path: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    # Never echo the value: it may be a mistyped secret.
    kind = "a mapping or list" if isinstance(value, (Mapping, list, tuple)) else type(value).__name__
    raise _fail(path, f"expected a string, got {kind}; quote it in YAML")


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    str: _to_str, int: _to_int, float: _to_float, bool: _to_bool, Path: _to_path, Secret: _to_secret,
}


def _check_bounds(value: Any, given: Any, checks: Mapping[str, Any], path: str) -> None:
    if value is None:
        return
    for op, sign, holds in (("ge", ">=", operator.ge), ("gt", ">", operator.gt), ("le", "<=", operator.le)):
        if op in checks and not holds(value, checks[op]):
            raise _fail(path, f"must be {sign} {checks[op]}, got {given!r}")
    if "min_length" in checks and len(value) < checks["min_length"]:
        raise _fail(path, f"needs at least {checks['min_length']} item(s), got {given!r}")


def _unknown(key: str, known: list[str]) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "expected one of " + ", ".join(known)
    return f"unknown setting; {hint}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(value)
