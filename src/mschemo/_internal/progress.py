"""Progress reporting of long runs: a user's callback, nothing, or a Rich progress bar."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback", "progress_callback"]

ProgressCallback = Callable[[int, int], None]


def progress_callback(progress: bool | ProgressCallback, total: int, label: str = "simulating") -> ProgressCallback:
    """A callback(done, total) for a run of ``total`` patients; done = -1 closes it."""
    if callable(progress):
        user = progress
        return lambda done, tot: user(done, tot) if done >= 0 else None
    if not progress:
        return lambda done, tot: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("patients"),
                   TimeRemainingColumn(), transient=True)
    task = bar.add_task(label, total=total)
    bar.start()

    def update(done: int, tot: int) -> None:
        if done < 0:
            bar.stop()
        else:
            bar.update(task, completed=done)

    return update
