"""Progress of a long command on stderr: count, rate and time left.

On a terminal the line is redrawn in place a few times a second; otherwise (a log, `--progress` in a
pipeline) a whole line is written every few seconds.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def duration(seconds: float | None) -> str:
    """`1 h 02 min`, `3 min 05 s`, `12 s`; `?` when unknown."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


class Progress:
    """Report `done` (and the fraction of the whole, when known) at most every `every` seconds."""

    def __init__(
        self,
        label: str,
        unit: str = "lines",
        stream: TextIO | None = None,
        enabled: bool = True,
        every: float | None = None,
        clock=time.monotonic,
    ) -> None:  # noqa: ANN001
        self.label, self.unit = label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if every is not None else (0.25 if self.tty else 5.0)
        self.clock = clock
        self.started = clock()
        self._last = self.started

    def line(self, done: int, fraction: float | None = None, extra: str = "") -> str:
        """The progress text: `label: 120 000 lines, 40 000 lines/s, 64%, 5 s left`."""
        elapsed = max(self.clock() - self.started, 1e-9)
        parts = [f"{self.label}: {_n(done)} {self.unit}", f"{_n(done / elapsed)} {self.unit}/s"]
        if fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
            parts += [f"{fraction:.0%}", f"{duration(left)} left"]
        if extra:
            parts.append(extra)
        return ", ".join(parts)

    def update(self, done: int, fraction: float | None = None, extra: str = "") -> None:
        """Show the progress if `every` seconds passed since it was last shown."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self._last < self.every:
            return
        self._last = now
        self._show(self.line(done, fraction, extra))

    def finish(self, done: int, extra: str = "") -> None:
        """The final figures (always shown when enabled): count, time taken and mean rate."""
        if not self.enabled:
            return
        elapsed = max(self.clock() - self.started, 1e-9)
        text = f"{self.label}: {_n(done)} {self.unit} in {duration(elapsed)}, {_n(done / elapsed)} {self.unit}/s"
        self._show(text + (f", {extra}" if extra else ""), end=True)

    def _show(self, text: str, end: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if end else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _n(value: float) -> str:
    """A whole number with spaces between thousands: `1 000 000`."""
    return f"{value:,.0f}".replace(",", " ")
