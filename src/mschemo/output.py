"""What to record: output times (days)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import OptionError

__all__ = ["OutputTimes", "MAX_OUTPUT_TIMES"]

#: the most output times of one patient
MAX_OUTPUT_TIMES = 5_000_001


@dataclass(frozen=True)
class OutputTimes:
    """Output times: every ``every`` from ``start`` to ``until`` (both included), or explicit ``times``.

    Durations are days or strings such as "1 day", "12 h", "2 years".

    >>> OutputTimes(every="1 day", until="1 week").times_d().tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """

    every: float | str | None = 1.0
    until: float | str | None = None
    start: float | str = 0.0
    times: tuple[float, ...] | None = None

    @staticmethod
    def _days(value: float | str | None, field: str) -> float:
        from .units import parse_duration

        if isinstance(value, str):
            return parse_duration(value, field=field)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
            raise OptionError(f"{field} is {value!r}; give days as a number or a duration such as '2 years'.")
        return float(value)

    @classmethod
    def parse(cls, output: OutputTimes | str | float | np.ndarray | list | None, until: float | str | None) -> OutputTimes:
        """The shorthand forms: 'daily', 'hourly', 'weekly', a step such as '12 h', or an array of times."""
        if isinstance(output, OutputTimes):
            return output if until is None else OutputTimes(output.every, until, output.start, output.times)
        if output is None or (isinstance(output, str) and output.strip().lower() == "daily"):
            return cls(1.0, until)
        if isinstance(output, str):
            key = output.strip().lower()
            named = {"hourly": 1.0 / 24.0, "weekly": 7.0}
            return cls(named[key] if key in named else output, until)
        if isinstance(output, (int, float)) and not isinstance(output, bool):
            return cls(float(output), until)
        arr = np.asarray(output, dtype=float).ravel()
        return cls(None, None, 0.0, tuple(arr.tolist()))

    def _grid(self, default_until: float | None) -> tuple[float, float, float, int]:
        """(start, step, end, steps) of the regular grid, checked: at most MAX_OUTPUT_TIMES times."""
        every = self._days(self.every, "output step")
        start = self._days(self.start, "output start")
        until = self._days(self.until, "until") if self.until is not None else default_until
        if until is None:
            raise OptionError("the simulation has no end; give until, e.g. until='2 years'.")
        if every <= 0:
            raise OptionError(f"output step {self.every!r} is not positive; give e.g. '1 day'.")
        if until < start:
            raise OptionError(f"until ({until:g} d) is before the start ({start:g} d); give a later end.")
        steps = (until - start) / every
        if steps + 1 > MAX_OUTPUT_TIMES:
            raise OptionError(f"the output grid from day {start:g} to day {until:g} every {every:.3g} d would have "
                              f"{steps + 1:,.0f} times, more than {MAX_OUTPUT_TIMES:,}; give a longer step.")
        return start, every, until, int(math.floor(steps + 1e-9))

    def check(self, default_until: float | None = None) -> None:
        """Raise OptionError now if :meth:`times_d` would (nothing is allocated)."""
        if self.times is None and (self.until is not None or default_until is not None):
            self._grid(default_until)

    def count(self, default_until: float) -> int:
        """How many output times there are, ending at ``default_until`` (days) where no end is given:
        what an estimate of a run's memory needs before the run, when its end depends on its doses.

        >>> OutputTimes(every=7.0).count(731.0), OutputTimes(every=7.0, until=14.0).count(731.0)
        (106, 3)
        """
        return int(self.times_d(default_until).size)

    def times_d(self, default_until: float | None = None) -> np.ndarray:
        if self.times is not None:
            t = np.asarray(self.times, dtype=float)
            if t.size == 0 or not np.all(np.isfinite(t)):
                raise OptionError("the output times are empty or not finite; give at least one time in days.")
            if np.any(t < 0):
                raise OptionError(f"output time {t[t < 0][0]:g} is negative; output times start at day 0.")
            if np.any(np.diff(t) < 0):
                raise OptionError("the output times are not in increasing order; sort them.")
            return t
        start, every, until, n = self._grid(default_until)
        t = start + every * np.arange(n + 1)
        if until - t[-1] > 1e-9 * max(1.0, until):
            t = np.append(t, until)
        return t
