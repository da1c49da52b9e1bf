"""YAML files as data: a fast plain parse for valid files, and a parse that keeps the
line of every key and item, used only to say where a problem is.

Both refuse what no dataset needs and what could hurt the reader: duplicate keys, merge
keys (exponential growth), nesting past what libyaml takes (1000 levels), NUL characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[Any, int]
    # (key, line, line of the first occurrence): reported with the entry and field.
    duplicates: list[tuple[Any, int, int]]


class LineList(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    line: int = 0
    lines: list[int]


class YamlProblem(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe YAML that keeps line numbers, rejects duplicate keys and keeps dates as text."""


class _FastLoader(_Base):  # type: ignore[valid-type,misc]
    """Plain dicts and lists, no line numbers: the path every valid file takes."""


_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_DEPTH = 64


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    # Merge keys (<<) copy mappings into mappings: nested, they grow exponentially before
    # any check could run (a "billion laughs" of a few hundred bytes). The format has no use
    # for them.
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            raise YamlProblem(
                key_node.start_mark.line + 1,
                "merge keys (<<) are not supported; write the fields out",
            )
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    result.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise YamlProblem(line, "a mapping key must be a plain value")
        if key in result:
            # Rejected (never "last one wins"); reported by the reader with entry and field.
            result.duplicates.append((key, line, result.lines[key]))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _line(node: yaml.Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark is not None else None


_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    # YAML 1.1 also reads 0777 as octal (511), 20:15 as base 60 (1215), 0x1F and 1_000:
    # a date written 0777 would load as the year 511. Only plain decimals are numbers;
    # anything else stays the text it was written as, for the field to accept or refuse.
    if not _DECIMAL.fullmatch(node.value):
        return str(node.value)
    try:
        return int(node.value)
    except ValueError:  # Python refuses to convert integers of over 4,300 digits
        raise YamlProblem(_line(node), "number too long") from None


# YAML 1.2, which editors and the JSON Schema follow: true/false are the flags, and a
# float is a plain decimal with an optional exponent (1e3 included), or .inf/.nan.
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool | str:
    # YAML 1.1 also reads yes/no/on/off as flags; those stay text, so that `approximate:
    # yes` is refused as an editor's schema refuses it, and a title "No" stays "No".
    value = str(node.value)
    return _BOOLS.get(value, value)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    # YAML 1.1 also reads 7_0.0 and base 60 (1:30.5); those stay text, as for ints.
    value = str(node.value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if _SPECIAL_FLOAT.fullmatch(value):  # for the field to refuse as not finite
        return float(value.replace(".", "").lower())
    return value


def _refuse_binary(_loader: yaml.SafeLoader, node: yaml.ScalarNode) -> None:
    # Bytes would pass as text, unchecked (a NUL included); no field holds binary data.
    raise YamlProblem(_line(node), "binary values (!!binary) are not supported")


def _refuse_set(_loader: yaml.SafeLoader, node: yaml.Node) -> None:
    # A set has no order: its items would be stored in a different order on each load.
    raise YamlProblem(_line(node), "sets (!!set) are not supported; write a list")


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
    _loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
    # 1e3 (no dot) is a number in YAML 1.2 and text in YAML 1.1.
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    _loader.add_constructor("tag:yaml.org,2002:binary", _refuse_binary)
    _loader.add_constructor("tag:yaml.org,2002:set", _refuse_set)


def decode_yaml(data: bytes) -> str:
    """The text of a YAML file; raises `YamlProblem` for bytes no YAML file may hold."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    if "\x00" in text:
        raise YamlProblem(text[: text.index("\x00")].count("\n") + 1, "contains a NUL byte")
    return text


def parse_yaml(text: str) -> Any:
    """Parse YAML keeping line numbers; raises `YamlProblem` with the line of a problem."""
    try:
        # Deep nesting: libyaml (PyYAML >= 6.0.4) refuses more than 1000 levels with a
        # ScannerError at its line, before its recursive composer could exhaust the C
        # stack; without libyaml, Python's recursion limit stops the pure parser.
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlProblem(
            mark.line + 1 if mark is not None else None, f"YAML syntax error: {message}"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(None, f"YAML error: {exc}") from None
    except RecursionError:
        # Below libyaml's limit, the line-keeping constructor (Python) can still run out of
        # recursion; only then is the text read again, to say where.
        raise YamlProblem(_deep_line(text), "YAML nested too deeply") from None


def _deep_line(text: str) -> int | None:
    """The line where nesting first goes past MAX_DEPTH (the parser does not recurse)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH and event.start_mark is not None:
                return int(event.start_mark.line) + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


class NeedsPositions(Exception):
    """The fast parse met something only the line-tracking parse reports properly."""


# Escapes that put a NUL into a double-quoted string.
_NUL_ESCAPE = re.compile(r"\\(?:0|x00|u0000|U00000000)")


def parse_yaml_fast(text: str) -> Any:
    """Parse YAML as plain data; raises `NeedsPositions` when only `parse_yaml` can explain it."""
    if _NUL_ESCAPE.search(text):
        raise NeedsPositions
    try:
        return _build(_FastLoader(text))
    except NeedsPositions:
        raise
    except Exception:  # any problem at all is reported by the line-tracking parse
        raise NeedsPositions from None


_STR_TAG = "tag:yaml.org,2002:str"
_NO_KEY = object()  # a mapping waiting for its next key


def _build(loader: Any) -> Any:  # a _FastLoader: PyYAML's event API has no types
    """The single document of `loader`'s stream, built straight from the parser's events.

    What PyYAML's composer and constructor give, about twice as fast, and without their
    recursion: nesting deeper than MAX_DEPTH needs positions (and the library refuses
    nesting that its composer could not handle). Duplicate keys and anchors, merge keys,
    tags on collections, a node that contains itself and a second document need positions
    too. A node reached again through an alias is the same object, so alias bombs stay cheap.
    """
    try:
        get_event, resolve, construct = loader.get_event, loader.resolve, loader.construct_object
        tags: dict[tuple[str, tuple[bool, bool]], str] = {}
        anchors: dict[str, Any] = {}
        open_: list[Any] = []  # the collections being built, innermost last
        keys: list[Any] = []  # for each, the key waiting for its value (or _NO_KEY)
        document: Any = None
        documents = 0
        while True:
            event = get_event()
            kind = event.__class__
            if kind is yaml.ScalarEvent:
                tag = event.tag
                if tag is None or tag == "!":
                    cache_key = (event.value, event.implicit)
                    tag = tags.get(cache_key)
                    if tag is None:
                        tag = tags[cache_key] = resolve(yaml.ScalarNode, *cache_key)
                if tag == _STR_TAG:
                    value = event.value
                else:  # numbers, booleans, nulls, dates (as text), explicit tags
                    value = construct(yaml.ScalarNode(tag, event.value, style=event.style))
                if event.anchor is not None:
                    _anchor(anchors, event.anchor, value)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag not in (None, "!") or len(open_) >= MAX_DEPTH:
                    raise NeedsPositions
                collection: Any = {} if kind is yaml.MappingStartEvent else []
                if event.anchor is not None:
                    _anchor(anchors, event.anchor, collection)
                open_.append(collection)
                keys.append(_NO_KEY)
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = open_.pop()
                keys.pop()
            elif kind is yaml.AliasEvent:
                value = anchors[event.anchor]
                if any(value is collection for collection in open_):
                    raise NeedsPositions  # contains itself
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise NeedsPositions
                continue
            elif kind is yaml.StreamEndEvent:
                return document
            else:
                continue
            if not open_:
                document = value
            elif open_[-1].__class__ is list:
                open_[-1].append(value)
            elif keys[-1] is _NO_KEY:
                if value in open_[-1]:
                    raise NeedsPositions  # a duplicate key
                keys[-1] = value
            else:
                open_[-1][keys[-1]] = value
                keys[-1] = _NO_KEY
    finally:
        loader.dispose()


def _anchor(anchors: dict[str, Any], name: str, value: Any) -> None:
    if name in anchors:
        raise NeedsPositions  # a duplicate anchor: an error the composer reports
    anchors[name] = value


def raw_record(root: Path, file: str, index: int, cache: dict[str, LineList]) -> LineDict:
    """The file's `index`th record with line numbers (the file parsed once into `cache`)."""
    if file not in cache:
        content = parse_yaml(decode_yaml((root / file).read_bytes()))
        assert isinstance(content, LineList), file
        cache[file] = content
    record: LineDict = cache[file][index]
    return record


def line_of(raw: Any, loc: Iterable[int | str], default: int) -> int:
    """The line of the value at `loc` in `raw` (as deep as it exists), else `default`."""
    line, node = default, raw
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line, node = node.lines[part], node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.lines[part], node[part]
        else:
            break
    return line


def raw_problems(
    node: Any, loc: list[int | str], seen: set[int]
) -> Iterator[tuple[list[int | str], int | None, str]]:
    """Duplicate keys and NUL characters anywhere in a record, as (loc, line, message).

    Aliases share objects; each container is visited once, so alias bombs stay cheap."""
    if isinstance(node, LineDict | LineList):
        if id(node) in seen:
            return
        seen.add(id(node))
    if isinstance(node, LineDict):
        for key, line, first in node.duplicates:
            yield [*loc, key], line, f"duplicate key {key!r} (first given on line {first})"
        for key, value in node.items():
            yield from raw_problems(value, [*loc, key], seen)
    elif isinstance(node, LineList):
        for index, item in enumerate(node):
            yield from raw_problems(item, [*loc, index], seen)
    elif isinstance(node, str) and "\x00" in node:
        yield loc, None, "contains a NUL character (\\0), which databases cannot store"
