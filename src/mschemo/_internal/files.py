"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "TableSink"]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
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


class TableSink:
    """Appends tables (pandas DataFrames) chunk by chunk to a .parquet or .csv file: a temporary file
    beside the target, renamed to it by ``close(True)`` and removed by ``close(False)``, so a run that
    fails or is stopped leaves no partial file at the target. ``metadata`` goes into a Parquet
    file's schema (bytes keys and values)."""

    def __init__(self, path: str | Path, metadata: dict[bytes, bytes] | None = None) -> None:
        self.path = Path(path)
        self.csv = self.path.suffix.lower() == ".csv"
        self.metadata = metadata or {}
        self._ctx = atomic_path(self.path)
        self.tmp = self._ctx.__enter__()
        self.writer: Any = None
        self.schema: Any = None
        self.rows = 0

    def write(self, frame: Any) -> None:
        if self.csv:
            frame.to_csv(self.tmp, mode="a", header=self.rows == 0, index=False)
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
