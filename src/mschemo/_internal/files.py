"""Atomic file writes: write to a temporary file beside the target, then rename.

A temporary copy is named ``.NAME.PID.XXXXXXXX[SUFFIX]`` beside its target (PID: the writing
process). A run that was killed leaves its copy behind; the next write of the same target removes
such copies once their process has ended and they are older than :data:`STALE_AFTER_S`, and never
reads them. The copies this process has not yet renamed or removed are kept in a register, so that a
run stopped by a signal removes them (:func:`remove_unsettled`). :func:`writable_problem` says before a
run why a target could not be written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "TableSink", "temp_sibling", "sweep_stale", "writable_problem", "settled", "made_folder",
           "remove_unsettled", "NAME_MAX", "TEMP_ROOM"]

#: the longest file name (bytes) most file systems take
NAME_MAX = 255
#: characters a temporary copy's name adds to its target's ('.', '.PID.', 8 random characters, the suffix)
TEMP_ROOM = 40
#: a temporary copy of an ended process is removed once it is this old (seconds)
STALE_AFTER_S = 600.0
#: this process's temporary copies not yet renamed or removed (False), and folders made for outputs (True)
_UNSETTLED: dict[Path, bool] = {}


def settled(tmp: str | Path) -> None:
    """``tmp`` was renamed into place or removed: a signal no longer removes it."""
    _UNSETTLED.pop(Path(tmp), None)


def made_folder(folder: str | Path) -> None:
    """``folder`` was made for outputs: a signal removes it if it is still empty."""
    _UNSETTLED[Path(folder)] = True


def remove_unsettled() -> None:
    """Remove every temporary copy this process has not renamed or removed, then the folders made for
    outputs that are empty (a run stopped by a signal)."""
    for path, is_folder in sorted(_UNSETTLED.items(), key=lambda kv: kv[1]):
        with contextlib.suppress(OSError):
            if is_folder:
                path.rmdir()
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
    _UNSETTLED.clear()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (where that cannot be known: yes)."""
    if os.name != "posix":   # pragma: no cover - os.kill(pid, 0) is a POSIX check
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:          # PermissionError: another user's process
        return True
    return True


def sweep_stale(target: str | Path) -> None:
    """Remove the temporary copies of ``target`` left by runs that were killed (see the module docstring)."""
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[a-z0-9_]{{8}}(?:{re.escape(target.suffix or '.tmp')})?")
    with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
        for entry in entries:
            m = pattern.fullmatch(entry.name)
            if m is None or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
                continue
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


def temp_sibling(target: str | Path, folder: bool = False) -> Path:
    """A new temporary file (or folder) beside ``target``, to be renamed to it; stale copies of earlier
    runs are swept first. The parent folder must exist."""
    target = Path(target)
    sweep_stale(target)
    prefix = f".{target.name}.{os.getpid()}."
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix or ".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    _UNSETTLED[tmp] = False
    return tmp


_WHY = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "a read-only file system",
        errno.ENOSPC: "no space left", errno.ENAMETOOLONG: "the path is too long"}


def writable_problem(target: str | Path) -> str | None:
    """Why ``target`` (a file or folder to create or replace) could not be written, in a few words, or
    None. A name too long, a parent that is a file, or a folder that does not accept new files (tried by
    creating and removing a temporary file in the nearest folder that exists) are problems."""
    target = Path(target)
    name = os.fsencode(target.name)
    if len(name) > NAME_MAX - TEMP_ROOM:
        return f"its name is {len(name)} characters long, more than the {NAME_MAX - TEMP_ROOM} a file name may have here"
    where = ""
    try:
        folder = target.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"'{str(folder)[-60:]}' is a file, not a folder"
        where = f" in the folder '{str(folder)[-60:]}'"
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", dir=folder)
    except OSError as exc:
        why = _WHY.get(exc.errno or 0, (exc.strerror or "an error").lower())
        return f"no file can be created{where} ({why})"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        settled(tmp)


class TableSink:
    """Appends tables (pandas DataFrames) chunk by chunk to a .parquet or .csv file: a temporary file
    beside the target, renamed to it by ``close(True)`` and removed by ``close(False)``, so a run that
    fails or is stopped leaves no partial file at the target. ``metadata`` goes into a Parquet
    file's schema (bytes keys and values); ``float_format`` is a CSV file's format of numbers
    (pandas' to_csv), e.g. "%.10g"."""

    def __init__(self, path: str | Path, metadata: dict[bytes, bytes] | None = None,
                 float_format: str | None = None) -> None:
        self.path = Path(path)
        self.csv = self.path.suffix.lower() == ".csv"
        self.metadata = metadata or {}
        self.float_format = float_format
        self._ctx = atomic_path(self.path)
        self.tmp = self._ctx.__enter__()
        self.writer: Any = None
        self.schema: Any = None
        self.rows = 0

    def write(self, frame: Any) -> None:
        if self.csv:
            frame.to_csv(self.tmp, mode="a", header=self.rows == 0, index=False, float_format=self.float_format)
            self.rows += len(frame)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema.with_metadata({**(table.schema.metadata or {}), **self.metadata})
            self.writer = pq.ParquetWriter(self.tmp, self.schema)
        self.writer.write_table(table.cast(self.schema))
        self.rows += len(frame)

    def close(self, ok: bool) -> None:
        if self.writer is not None:
            self.writer.close()
        if ok:
            self._ctx.__exit__(None, None, None)
            return
        try:
            raise RuntimeError("the run did not finish")
        except RuntimeError as exc:
            self._ctx.__exit__(type(exc), exc, exc.__traceback__)
