"""Watching the roots: a watchdog handler that only enqueues paths, and a debouncer.

The handler (`Enqueue`) turns created, modified, moved and deleted events into paths
handed to a `Debouncer`; nothing is read in the observer's thread. The debouncer
gives a path back (`Debouncer.due`) once no event came for it for ``settle`` seconds:
a file being written is scanned once, after its last write. A move enqueues both its
old path (so the state can record it gone) and its new one.

`start_observer` schedules a recursive watch per root. When the system runs out of
watches (inotify's ``max_user_watches``: ``OSError`` ENOSPC, or EMFILE for instances)
it gives up watching and says why: the daemon then relies on periodic sweeps and
says so in its reports.

watchdog (7.x) gives up *silently* on a subfolder it cannot watch (ENOSPC once the
watches run out, at scheduling or for a folder made later): only the root's failure
reaches the caller. `unwatched` finds such folders by comparing the folders on disk
with those the inotify emitters hold, so that a partial watch is not taken for a whole
one.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

__all__ = ["Debouncer", "Enqueue", "folders_under", "start_observer", "unwatched"]

_OUT_OF_WATCHES = (errno.ENOSPC, errno.EMFILE)


class Debouncer:
    """Paths with the time of their last event; thread-safe."""

    def __init__(self, settle: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle = settle
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[Path, float] = {}

    def add(self, path: Path) -> None:
        with self._lock:
            self._last[path] = self._clock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)

    def due(self) -> list[Path]:
        """Remove and return the paths quiet for ``settle`` seconds, sorted."""
        now = self._clock()
        with self._lock:
            ready = [p for p, t in self._last.items() if now - t >= self.settle]
            for path in ready:
                del self._last[path]
        return sorted(ready)

    def clear(self) -> list[Path]:
        """Remove and return every path (a full sweep covers them)."""
        with self._lock:
            paths = sorted(self._last)
            self._last.clear()
        return paths


class Enqueue(FileSystemEventHandler):
    """Hands the paths of file events to a `Debouncer`, except those under ``ignore``."""

    def __init__(self, queue: Debouncer, ignore: Iterable[Path] = ()) -> None:
        self.queue = queue
        self.ignore = tuple(str(p).rstrip(os.sep) for p in ignore)

    def _put(self, raw: bytes | str) -> None:
        text = os.fsdecode(raw)
        if not text:
            return
        for folder in self.ignore:
            if text == folder or text.startswith(folder + os.sep):
                return
        self.queue.add(Path(text))

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "moved", "deleted", "closed"):
            return  # opened, closed_no_write: nothing changed
        if event.is_directory and event.event_type == "modified":
            return  # an entry changed inside: that entry has its own event
        self._put(event.src_path)
        if event.event_type == "moved":
            self._put(event.dest_path)


def start_observer(
    roots: Iterable[Path], handler: FileSystemEventHandler
) -> tuple[BaseObserver | None, str | None]:
    """A started observer watching ``roots`` recursively, or (None, why not)."""
    try:
        observer = Observer()  # the inotify instance is made here (EMFILE when none is left)
    except OSError as exc:
        return None, _why(exc)
    try:
        for root in roots:
            if root.is_dir():
                observer.schedule(handler, str(root), recursive=True)
        observer.start()
    except OSError as exc:
        observer.stop()  # also ends the shared inotify thread the observer started
        if observer.is_alive():
            observer.join(5)
        return None, _why(exc)
    return observer, None


def _why(exc: OSError) -> str:
    if exc.errno in _OUT_OF_WATCHES:
        return f"watch:exhausted ({errno.errorcode.get(exc.errno or 0, 'OSError')})"
    return f"watch:failed ({type(exc).__name__} {exc.errno})"


def folders_under(roots: Iterable[Path]) -> Iterator[str]:
    """Every folder under ``roots`` (roots included), not following links: what a
    recursive watch must cover."""
    for root in roots:
        for folder, _, _ in os.walk(root, followlinks=False):
            yield folder


def watched_folders(observer: BaseObserver) -> set[str] | None:
    """The folders an inotify observer really holds a watch on; None where watches are
    not per folder (FSEvents, ReadDirectoryChangesW, polling) or watchdog's inotify
    internals are not the known ones (then nothing can be said)."""
    held: set[str] = set()
    for emitter in list(observer.emitters):
        group = getattr(emitter, "_inotify", None)
        paths = getattr(group, "_active_callbacks_by_path", None)
        if not isinstance(paths, dict):
            return None
        held.update(os.fsdecode(p).rstrip(os.sep) or os.sep for p in list(paths))
    return held


def unwatched(observer: BaseObserver, folders: Iterable[str]) -> list[str] | None:
    """Those of ``folders`` (that still exist) the observer does not watch; None when
    that cannot be known for this observer."""
    held = watched_folders(observer)
    if held is None:
        return None
    return sorted(f for f in folders if f.rstrip(os.sep) not in held and os.path.isdir(f))
