"""Fast parsers derived from the construct declarations of apdu.py (declare once; this compiles them again).

construct's own compiler (`Construct.compile()`) turns a declaration into Python source that reads a
BytesIO stream and builds `Container`s (dicts whose attribute access is a Python-level `__getattr__`,
~0.7 µs a field). The hot path of a manager, a scan report every few seconds per agent, reads ~30 fields a
report; so this module compiles the same declarations a second way: each `Struct` becomes a slotted record
class (fields read at C speed), runs of fixed-size integer fields become one `struct.unpack_from`, and
lengths are checked against offsets into the APDU bytes instead of a sub-stream.

Only the constructs apdu.py uses are understood (Struct, the big-endian integer FormatFields, `Sized`,
`SeqOf`, `Switch` on an earlier field, `GreedyBytes`, `UnknownChoice`); `compile_layout` raises
`Unsupported` for anything else, so a declaration that grows beyond them is noticed by the tests
(tests/x73/test_layouts.py), never parsed differently. A parse either returns the value construct's
parse returns (same field names and values; lists for SEQUENCE OF, bytes for octet strings) or raises
`Short` without saying why: callers then run construct's declarative parse, which names the fault and
its byte offset (`apdu.parse`), and which also tolerates an event-info's padding, which this does not.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from construct import (
    Array,
    Construct,
    Container,
    FocusedSeq,
    FormatField,
    GreedyBytes,
    Renamed,
    Struct,
    Switch,
)

from . import apdu


class Short(Exception):
    """The bytes do not fit the declaration (the caller finds out where through the declarative parse)."""


class Unsupported(TypeError):
    """A declaration uses a construct this module does not compile."""


# parse(data, pos, end) -> (value, new pos); reads only data[pos:end]
Parser = Callable[[bytes, int, int], tuple[Any, int]]


class Record:
    """Base of the record classes made for each declared Struct: slotted fields, read like a Container
    (`.field`, `["field"]`, `keys()`, `dict(record)`), equal to a Container with the same fields."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def keys(self) -> tuple[str, ...]:
        return self._fields

    def items(self) -> list[tuple[str, Any]]:
        return [(f, getattr(self, f)) for f in self._fields]

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default) if name in self._fields else default

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._fields == other._fields and all(getattr(self, f) == getattr(other, f) for f in self._fields)
        if isinstance(other, dict):
            keys = [k for k in other if k != "_io"]
            return sorted(keys) == sorted(self._fields) and all(getattr(self, f) == other[f] for f in self._fields)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] - mutable like a Container

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"


def _record_class(name: str, fields: tuple[str, ...]) -> type[Record]:
    namespace: dict[str, Any] = {}
    args = ", ".join(fields)
    body = "".join(f"\n    self.{f} = {f}" for f in fields) or "\n    pass"
    exec(f"def __init__(self, {args}):{body}", namespace)  # noqa: S102 - source made from declared field names
    return type(name, (Record,), {"__slots__": fields, "_fields": fields, "__init__": namespace["__init__"]})


def _unwrap(con: Construct) -> Construct:
    while isinstance(con, Renamed):
        con = con.subcon
    return con


def _switch_key(switch: Switch, earlier: list[str]) -> str:
    """The name of the earlier field a Switch's key expression (`this.choice`) reads."""
    for name in earlier:
        probe = object()
        try:
            if switch.keyfunc({name: probe}) is probe:
                return name
        except Exception:  # noqa: BLE001,S112 - the expression reads another field: try the next one
            continue
    raise Unsupported(f"Switch key over none of {earlier}")


def compile_layout(con: Construct, name: str = "Value") -> Parser:
    """A parser for the declaration `con` (see the module's docstring)."""
    con = _unwrap(con)
    if isinstance(con, FormatField):
        if con.fmtstr[0] != ">":
            raise Unsupported(f"format {con.fmtstr}")
        fmt = struct.Struct(con.fmtstr)
        size = fmt.size
        unpack = fmt.unpack_from

        def field(data: bytes, pos: int, end: int) -> tuple[Any, int]:
            if pos + size > end:
                raise Short
            return unpack(data, pos)[0], pos + size
        return field
    if con is GreedyBytes:
        return lambda data, pos, end: (data[pos:end], end)
    if isinstance(con, apdu.UnknownChoice):
        def unknown(data: bytes, pos: int, end: int) -> tuple[Any, int]:
            raise Short
        return unknown
    if isinstance(con, apdu.Sized):
        return _sized(compile_layout(con.subcon, name))
    if isinstance(con, FocusedSeq) and getattr(con, "x73_item", None) is not None:
        return _sequence_of(compile_layout(con.x73_item, name + "Item"), _integer_code(con.x73_item))
    if isinstance(con, Struct):
        return _struct(con, name)
    raise Unsupported(f"{type(con).__name__} in {name}")


def _integer_code(con: Construct) -> str | None:
    """The struct code of a big-endian integer FormatField ("H"), else None."""
    con = _unwrap(con)
    if isinstance(con, FormatField) and con.fmtstr[0] == ">":
        return con.fmtstr[1:]
    return None


def _sized(inner: Parser) -> Parser:
    def sized(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos + 2 > end:
            raise Short
        stop = pos + 2 + (data[pos] << 8 | data[pos + 1])
        if stop > end:
            raise Short
        value, at = inner(data, pos + 2, stop)
        if at != stop:
            raise Short  # octets left over inside the length (or padding: the declarative parse decides)
        return value, stop
    return sized


@lru_cache(maxsize=1024)
def _array(code: str, count: int) -> struct.Struct:
    """`count` big-endian integers of struct format `code` ("H", "I" ...)."""
    return struct.Struct(f">{count}{code}")


def _sequence_of(item: Parser, code: str | None = None) -> Parser:
    if code is not None:  # items are integers of one format: one unpack for all of them
        size = struct.calcsize(">" + code)

        def numbers(data: bytes, pos: int, end: int) -> tuple[Any, int]:
            if pos + 4 > end:
                raise Short
            count = data[pos] << 8 | data[pos + 1]
            stop = pos + 4 + (data[pos + 2] << 8 | data[pos + 3])
            if stop > end or count * size != stop - pos - 4:
                raise Short
            return list(_array(code, count).unpack_from(data, pos + 4)), stop
        return numbers

    def sequence(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos + 4 > end:
            raise Short
        count = data[pos] << 8 | data[pos + 1]
        stop = pos + 4 + (data[pos + 2] << 8 | data[pos + 3])
        if stop > end:
            raise Short
        at = pos + 4
        out = []
        for _ in range(count):
            value, at = item(data, at, stop)
            out.append(value)
        if at != stop:
            raise Short
        return out, stop
    return sequence


def _struct(con: Struct, name: str) -> Parser:
    """Python source for one Struct (as construct's compiler does): runs of fixed fields read by one unpack,
    other fields by their own parsers, a Switch by the parser of its case; one record made at the end."""
    fields: list[str] = []
    names: dict[str, Any] = {"Short": Short}
    lines: list[str] = []
    run_fmt, run_names = "", []

    def close_run() -> None:
        nonlocal run_fmt, run_names
        if run_names:
            fmt = struct.Struct(">" + run_fmt)
            names[f"u{len(names)}"] = fmt.unpack_from
            lines.append(f"    if pos + {fmt.size} > end: raise Short")
            lines.append(f"    {', '.join(run_names)}, = u{len(names) - 1}(data, pos); pos += {fmt.size}")
        run_fmt, run_names = "", []

    for sub in con.subcons:
        if sub.name is None or not sub.name.isidentifier() or sub.name in ("data", "pos", "end"):
            raise Unsupported(f"field name {sub.name!r} in {name}")
        inner = _unwrap(sub)
        fields.append(sub.name)
        if isinstance(inner, FormatField) and inner.fmtstr[0] == ">":
            run_fmt += inner.fmtstr[1:]
            run_names.append(f"f_{sub.name}")
            continue
        close_run()
        field = f"f_{sub.name}"
        if isinstance(inner, apdu.Sized):  # INT-U16 length, then exactly that many octets of content
            lines.append("    if pos + 2 > end: raise Short")
            lines.append("    stop = pos + 2 + (data[pos] << 8 | data[pos + 1])")
            lines.append("    if stop > end: raise Short")
            content = _unwrap(inner.subcon)
            if isinstance(content, Switch):
                key = _switch_key(content, fields[:-1])
                names[f"c{len(names)}"] = {k: compile_layout(v, f"{name}_{sub.name}_{k}")
                                           for k, v in content.cases.items()}
                names[f"d{len(names)}"] = compile_layout(content.default, f"{name}_{sub.name}")
                lines.append(f"    {field}, at = c{len(names) - 2}.get(f_{key}, d{len(names) - 1})(data, pos + 2, stop)")
                lines.append("    if at != stop: raise Short")
            elif content is GreedyBytes:
                lines.append(f"    {field} = data[pos + 2:stop]")
            else:
                names[f"p{len(names)}"] = compile_layout(content, f"{name}_{sub.name}")
                lines.append(f"    {field}, at = p{len(names) - 1}(data, pos + 2, stop)")
                lines.append("    if at != stop: raise Short")
            lines.append("    pos = stop")
        elif isinstance(inner, FocusedSeq) and getattr(inner, "x73_item", None) is not None:  # SEQUENCE OF
            lines.append("    if pos + 4 > end: raise Short")
            lines.append("    count = data[pos] << 8 | data[pos + 1]")
            lines.append("    stop = pos + 4 + (data[pos + 2] << 8 | data[pos + 3])")
            lines.append("    if stop > end: raise Short")
            code = _integer_code(inner.x73_item)
            if code is not None:
                names["array"] = _array
                lines.append(f"    if count * {struct.calcsize('>' + code)} != stop - pos - 4: raise Short")
                lines.append(f"    {field} = list(array({code!r}, count).unpack_from(data, pos + 4))")
            else:
                names[f"i{len(names)}"] = compile_layout(inner.x73_item, f"{name}_{sub.name}Item")
                lines.append(f"    {field} = []; at = pos + 4")
                lines.append("    for _ in range(count):")
                lines.append(f"        v, at = i{len(names) - 1}(data, at, stop); {field}.append(v)")
                lines.append("    if at != stop: raise Short")
            lines.append("    pos = stop")
        elif isinstance(inner, Switch):
            raise Unsupported(f"Switch without a length in {name}")
        elif isinstance(inner, Array):
            raise Unsupported(f"Array outside SeqOf in {name}")
        else:
            names[f"p{len(names)}"] = compile_layout(inner, f"{name}_{sub.name}")
            lines.append(f"    f_{sub.name}, pos = p{len(names) - 1}(data, pos, end)")
    close_run()
    names["cls"] = _record_class(name, tuple(fields))
    args = ", ".join(f"f_{f}" for f in fields)
    source = "def parse(data, pos, end):\n" + "\n".join(lines) + f"\n    return cls({args}), pos\n"
    exec(source, names)  # noqa: S102 - source made from the declaration's field names and formats
    return names["parse"]


def parse_whole(parser: Parser, data: bytes) -> Any:
    """The value of `data` (all of it) per `parser`; raises Short when it does not fit exactly."""
    try:
        value, at = parser(data, 0, len(data))
    except (Short, struct.error, IndexError):
        raise Short from None
    if at != len(data):
        raise Short
    return value


def to_container(value: Any) -> Any:
    """`value` with its records made construct Containers (and lists of them ListContainers' items), for
    construct's build; anything else is returned as it is."""
    if isinstance(value, Record):
        return Container({f: to_container(getattr(value, f)) for f in value._fields})
    if isinstance(value, list) and any(isinstance(v, Record) for v in value):
        return [to_container(v) for v in value]
    return value
