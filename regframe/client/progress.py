"""Progress of one read: a count of finished requests against a total that grows as work is found.

``read_tags(progress=...)`` accepts

* ``None`` — a ``tqdm.auto`` bar once the work is long (``PROGRESS_THRESHOLD``
  requests) and a terminal or notebook is attached;
* ``True`` / ``False`` — always / never a bar;
* a callable ``progress(done, total)`` — called with two ints whenever the
  count or the total changed (no bar is drawn).  ``total`` can grow while the
  read runs: tag-list pages come first, then one request per tag, then the
  manifests and configs those tags lead to.

Workers only bump counters (:meth:`Progress.advance`, :meth:`Progress.expect`);
whoever waits for them calls :meth:`Progress.refresh`, so the bar and the
callable are always driven from the thread that started the read (ipywidgets
and tqdm's notebook bar are not meant to be touched from worker threads).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeAlias

from regframe.errors import InvalidArgumentTypeError

__all__ = ["PROGRESS_THRESHOLD", "Progress", "ProgressCallback", "ProgressOption"]

log = logging.getLogger(__name__)

#: ``progress(done, total)``: requests finished so far and requests known so far.
ProgressCallback: TypeAlias = Callable[[int, int], object]
#: What ``read_tags(progress=...)`` accepts.
ProgressOption: TypeAlias = bool | ProgressCallback | None
#: A bar for a handful of requests is noise; 64 is about a second of work.
PROGRESS_THRESHOLD = 64


def _attached() -> bool:
    """A notebook kernel or a terminal is there to show a bar."""
    # A running kernel, not merely an imported ipykernel: test tools and nbclient import it
    # into processes that have no notebook to draw in.
    ipython = sys.modules.get("IPython")
    get_shell = getattr(ipython, "get_ipython", None)
    shell = get_shell() if callable(get_shell) else None
    if getattr(shell, "kernel", None) is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class Progress:
    """Counts finished requests and shows them as ``progress=`` asks (see the module docstring).

    Parameters
    ----------
    option
        ``None``, ``True``, ``False`` or a callable ``(done, total)``.
    desc
        The bar's label.
    unit
        What one step is, for the bar.
    threshold
        With ``option=None``: the total from which a bar is worth drawing.

    Examples
    --------
    >>> seen = []
    >>> p = Progress(lambda done, total: seen.append((done, total)))
    >>> p.expect(3)
    >>> p.advance()
    >>> p.refresh()
    >>> p.advance(2)
    >>> p.close()
    >>> seen
    [(1, 3), (3, 3)]
    >>> Progress(False).enabled
    False
    """

    def __init__(
        self,
        option: ProgressOption = None,
        *,
        desc: str = "requests",
        unit: str = "req",
        threshold: int = PROGRESS_THRESHOLD,
    ) -> None:
        if option is not None and not isinstance(option, bool) and not callable(option):
            raise InvalidArgumentTypeError(
                f"progress must be None, True, False or a callable (done, total), "
                f"not {type(option).__name__}"
            )
        self.option = option
        self.desc = desc
        self.unit = unit
        self.threshold = threshold
        self.done = 0
        self.total = 0
        self._lock = threading.Lock()
        self._shown = (-1, -1)
        self._bar: Any = None
        self._bar_failed = False

    @classmethod
    def of(cls, option: ProgressOption | Progress, *, desc: str = "requests") -> Progress:
        """``option`` itself when it is a :class:`Progress` already, else a new one for it."""
        return option if isinstance(option, Progress) else cls(option, desc=desc)

    @property
    def enabled(self) -> bool:
        """Whether anything may ever be shown or called."""
        return self.option is not False

    def expect(self, n: int = 1) -> None:
        """``n`` more requests are known to be needed (thread-safe)."""
        with self._lock:
            self.total += n

    def advance(self, n: int = 1) -> None:
        """``n`` more requests finished (thread-safe); the total never falls behind."""
        with self._lock:
            self.done += n
            if self.done > self.total:
                self.total = self.done

    def step(self) -> None:
        """One request that was not expected beforehand finished: count and show it now."""
        self.expect(1)
        self.advance(1)
        self.refresh()

    def refresh(self) -> None:
        """Show the current counts (from the thread that started the read)."""
        if self.option is False:
            return
        with self._lock:
            done, total = self.done, self.total
        if (done, total) == self._shown:
            return
        self._shown = (done, total)
        if callable(self.option):
            self.option(done, total)
            return
        bar = self._get_bar(total)
        if bar is not None:
            if bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

    def _get_bar(self, total: int) -> Any:
        if self._bar is not None or self._bar_failed:
            return self._bar
        if self.option is None and (total < self.threshold or not _attached()):
            return None
        try:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, leave=False)
        except Exception as exc:  # a broken notebook frontend must never fail a read
            log.debug("no progress bar: %s", exc)
            self._bar_failed = True
        return self._bar

    def close(self) -> None:
        """Show the final counts and remove the bar."""
        self.refresh()
        if self._bar is not None:
            self._bar.refresh()  # tqdm skips redraws within 0.1 s: show the final count once
            self._bar.close()
            self._bar = None
