"""Reading TOML, YAML and JSON text into plain data, bounded: text nested too deeply, or data that
expands to too many values (YAML aliases repeated within aliases, a "billion laughs"), or that refers
to itself, is refused before anything walks it."""

from __future__ import annotations

from typing import Any

__all__ = ["DataTextError", "load_data", "check_data", "MAX_DEPTH", "MAX_VALUES"]

#: the deepest nesting of tables and lists a file of mschemo's may have
MAX_DEPTH = 32
#: the most values (tables, lists and scalars, aliases counted each time they are used) a file may hold
MAX_VALUES = 100_000


class DataTextError(ValueError):
    """Text that cannot be read as data: ``reason`` ("is not valid TOML (...)") and ``fix`` ("fix the
    syntax"), for the caller to put after the file's name in its own error."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason}; {fix}")
        self.reason, self.fix = reason, fix


def load_data(text: str, fmt: str) -> Any:
    """``text`` read as ``fmt`` ("toml", "yaml" or "json"), checked by :func:`check_data`."""
    import json

    import tomllib

    syntax: tuple[type[Exception], ...] = (tomllib.TOMLDecodeError, ValueError)
    try:
        if fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "yaml":
            import yaml

            syntax += (yaml.YAMLError,)
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except RecursionError:
        raise DataTextError(f"is nested more than {MAX_DEPTH} levels deep", "flatten it") from None
    except json.JSONDecodeError as exc:
        raise DataTextError(f"is not valid JSON (line {exc.lineno}: {exc.msg})", "fix the syntax") from None
    except syntax as exc:
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DataTextError(f"is not valid {fmt.upper()} ({first})", "fix the syntax") from None
    check_data(data)
    return data


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple, set)):
        return list(node)
    return []


def check_data(data: Any) -> None:
    """Raise :class:`DataTextError` when ``data`` nests more than :data:`MAX_DEPTH` levels, holds more
    than :data:`MAX_VALUES` values once every alias is expanded, or contains itself."""
    done: dict[int, tuple[int, int]] = {}        # id -> (values, depth) of a finished table or list
    started: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, finish = stack.pop()
        kids = _children(node)
        if not kids or (not finish and id(node) in done):
            continue
        if finish:
            inner = [done.get(id(k), (1, 0)) if _children(k) else (1, 0) for k in kids]
            values, depth = 1 + sum(v for v, _ in inner), 1 + max(d for _, d in inner)
            if depth > MAX_DEPTH:
                raise DataTextError(f"is nested more than {MAX_DEPTH} levels deep", "flatten it")
            if values > MAX_VALUES:
                raise DataTextError(f"holds more than {MAX_VALUES:,} values (each alias counted where it is used)",
                                    "shorten it, and write each value out once")
            done[id(node)] = (values, depth)
            continue
        if id(node) in started:
            raise DataTextError("contains itself (an alias inside its own anchor)", "remove that alias")
        started.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids if _children(k))
