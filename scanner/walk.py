"""The filesystem walk: which files to scan, and why the others were not scanned.

`walk` yields a `FileEntry` for every regular file to scan and a `Skipped`, with its
coverage reason, for everything else that is not a directory (non-negotiable 5):

==========================  ==============================================================
``excluded``                matched an exclude pattern (a directory is reported once)
``limit:size``              a regular file larger than ``max_file_bytes``
``special:fifo``            a named pipe; never opened
``special:socket``          a Unix socket; never opened
``special:device``          a character or block device (or another special type)
``symlink``                 a link inside the roots, not followed; its target is scanned
                            where it lies (or was already scanned)
``symlink:outside-root``    a link that resolves outside every root; never followed
``symlink:loop``            a link to its own directory or an ancestor, a link chain that
                            never ends (ELOOP), or a directory reached a second time
``symlink:dangling``        a link whose target does not exist
``permission``              the directory or file could not be listed or read
``other-filesystem``        a mount point (``one_file_system``): reported once per mount
``vanished``                gone between listing and stat, or between walk and open
``changed``                 `open_readonly`: not the file the walk saw (dev/ino, type)
``unreadable``              any other operating-system error (EIO, ENAMETOOLONG, ...)
==========================  ==============================================================

Read-only (non-negotiable 2): directories are listed with `os.scandir`, entries are
classified from ``lstat`` data (``stat(follow_symlinks=False)``) before anything is
opened, and FIFOs, sockets and devices are never opened. Listing a directory may update
that directory's access time (there is no portable way to avoid it; mount with
``noatime`` if that matters); file contents are only read through `open_readonly`, which
uses ``O_NOATIME`` where the system has it.

The order is deterministic: names are sorted, each directory's entries come before its
subdirectories' (depth-first, pre-order). The walk is iterative, so deep trees do not hit
the recursion limit, and nothing on disk makes it raise.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ftiscan.scanner.errors import ExtractError

__all__ = ["FileEntry", "Skipped", "WalkOptions", "open_readonly", "walk"]

_BUFFER_BYTES = 1 << 20
_WINDOWS = os.name == "nt"
_ERROR_CANT_RESOLVE_FILENAME = 1921  # Windows' ELOOP
_IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003  # Windows junction (stat defines it on Windows only)

_NOATIME: int = getattr(os, "O_NOATIME", 0)
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS: int = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | _NONBLOCK
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
    | getattr(os, "O_NOINHERIT", 0)  # Windows' O_CLOEXEC
)


@dataclass(frozen=True, slots=True)
class WalkOptions:
    """What to walk.

    ``excludes`` are glob patterns (`fnmatch`, ``*`` also matches ``/``), tried on the path
    relative to its root (with ``/`` separators), on the base name and on the absolute
    path: ``"**/node_modules"``, ``"node_modules"`` and ``"*.iso"`` all work. Roots
    themselves are never excluded: they were named on purpose.
    """

    excludes: tuple[str, ...] = ()
    max_file_bytes: int | None = None
    one_file_system: bool = False
    follow_symlinks: bool = False


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A regular file to scan, with the identity `open_readonly` checks."""

    path: Path
    root: Path
    size: int
    dev: int
    ino: int
    mtime_ns: int
    ctime_ns: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something that was not scanned, with its coverage reason."""

    path: Path
    reason: str
    size: int = 0


def walk(
    roots: Sequence[Path], options: WalkOptions = WalkOptions()
) -> Iterator[FileEntry | Skipped]:
    """Yield every regular file under ``roots`` once, and every other non-directory as
    `Skipped`.

    Paths are absolute (``os.path.abspath`` of the root, then the names found). A root
    inside another root (after resolving links) is walked once, as part of the outer
    one; a root that is a file yields that file; a root that is a link is followed (it
    was named on purpose). Links found inside the roots are not followed unless
    ``follow_symlinks``; even then only when they resolve inside a root, and only after
    the real tree has been walked, so every file is reported at its real path first and
    a target reached again through a link is reported as ``symlink``. Hard links are
    separate paths and are all yielded.

    >>> [item.reason for item in walk([Path("/nonexistent-ftiscan-root")])]
    ['vanished']
    """
    yield from _Walker(options).run(roots)


def open_readonly(entry: FileEntry) -> BinaryIO:
    """Open ``entry`` for reading without changing it or its access time.

    Uses ``O_NOATIME`` where it exists (retried without it when the system refuses it
    for a file we do not own), ``O_NOFOLLOW`` and ``O_NONBLOCK`` (so a file swapped for
    a FIFO cannot block), then checks with ``fstat`` that the open file is still a
    regular file with the entry's device and inode. On systems without ``O_NOATIME``
    (macOS, Windows) the access time follows the volume's own policy.

    Raises `ExtractError` with reason ``vanished``, ``changed``, ``permission`` or
    ``unreadable``.
    """
    path = os.fspath(entry.path)
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):  # reached through a followed link: open its target
            path = os.path.realpath(path, strict=True)
            st = os.lstat(path)
    except OSError as exc:
        raise ExtractError(_open_reason(exc)) from exc
    if not _same_file(st, entry):  # checked before opening: never open a FIFO or device
        raise ExtractError("changed", "not the regular file the walk saw")
    fd = _open_fd(path)
    try:
        if not _same_file(os.fstat(fd), entry):
            raise ExtractError("changed", "not the regular file the walk saw")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=_BUFFER_BYTES)


def _same_file(st: os.stat_result, entry: FileEntry) -> bool:
    return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (entry.dev, entry.ino)


def _open_fd(path: str) -> int:
    try:
        return os.open(path, _OPEN_FLAGS | _NOATIME)
    except OSError as exc:
        if not (_NOATIME and exc.errno == errno.EPERM):
            raise ExtractError(_open_reason(exc)) from exc
    try:  # O_NOATIME needs ownership or CAP_FOWNER
        return os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ExtractError(_open_reason(exc)) from exc


def _open_reason(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.ENXIO, errno.ENODEV, errno.EISDIR, errno.EAGAIN):
        return "changed"  # became a link, a socket, a device, a directory, a busy FIFO
    return _os_reason(exc)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return "vanished"
    if _is_loop_error(exc):
        return "symlink:loop"
    return "unreadable"


def _is_loop_error(exc: OSError) -> bool:
    return exc.errno == errno.ELOOP or getattr(exc, "winerror", None) == (
        _ERROR_CANT_RESOLVE_FILENAME
    )


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "special:fifo"
    if stat.S_ISSOCK(mode):
        return "special:socket"
    return "special:device"  # character, block, and the rare others (doors, whiteouts)


def _is_link(st: os.stat_result) -> bool:
    """A symlink, or on Windows a directory junction (which can loop just the same)."""
    if stat.S_ISLNK(st.st_mode):
        return True
    tag: int = getattr(st, "st_reparse_tag", 0)
    return tag == _IO_REPARSE_TAG_MOUNT_POINT


def _within(path: str, parent: str) -> bool:
    """``path`` is ``parent`` or below it (both real, absolute)."""
    path, parent = os.path.normcase(path), os.path.normcase(parent)
    if path == parent:
        return True
    prefix = parent if parent.endswith(os.sep) else parent + os.sep
    return path.startswith(prefix)


def _compile_excludes(patterns: Sequence[str]) -> re.Pattern[str] | None:
    parts: list[str] = []
    for raw in patterns:
        pattern = raw.replace("\\", "/") if _WINDOWS else raw
        pattern = pattern.rstrip("/") or pattern
        parts.append(fnmatch.translate(pattern))
        if pattern.startswith("**/"):
            parts.append(fnmatch.translate(pattern[3:]))
    if not parts:
        return None
    return re.compile("|".join(f"(?:{part})" for part in parts), re.IGNORECASE if _WINDOWS else 0)


@dataclass(frozen=True, slots=True)
class _Root:
    path: str  # absolute, as named (links not resolved)
    real: str  # links resolved
    dev: int
    named: Path  # ``path`` as a Path, made once for every file under the root


@dataclass(frozen=True, slots=True)
class _Dir:
    path: str  # as reported
    rel: str  # relative to the root, "/"-separated; "" for the root
    real: str  # links resolved
    root: _Root


@dataclass(frozen=True, slots=True)
class _Link:
    path: str
    rel: str
    root: _Root


class _Walker:
    """One walk's state: directories visited, files seen (when following), links queued."""

    def __init__(self, options: WalkOptions) -> None:
        self.options = options
        self.excludes = _compile_excludes(options.excludes)
        self.visited: set[tuple[int, int]] = set()
        self.seen: set[tuple[int, int]] | None = set() if options.follow_symlinks else None
        self.links: deque[_Link] = deque()
        self.reals: list[str] = []  # the roots walked, links resolved

    def run(self, roots: Sequence[Path]) -> Iterator[FileEntry | Skipped]:
        named: list[tuple[str, str]] = []
        for root in roots:
            try:
                path = os.path.abspath(root)  # may ask for the working directory
                real = os.path.realpath(path)
            except OSError as exc:  # the working directory was deleted
                yield Skipped(Path(root), _os_reason(exc))
                continue
            named.append((path, real))
        kept: list[tuple[str, str]] = []
        for path, real in named:
            if any(_within(real, other) for _, other in kept):
                continue  # the same as a root already named
            if any(_within(real, other) and real != other for _, other in named):
                continue  # nested in another root: walked as part of it
            kept.append((path, real))
        self.reals = [real for _, real in kept]
        for path, real in kept:
            yield from self._walk_root(path, real)
        while self.links:
            yield from self._follow(self.links.popleft())

    def _walk_root(self, path: str, real: str) -> Iterator[FileEntry | Skipped]:
        try:
            st = os.stat(path)  # a root that is a link is followed: it was named
        except OSError as exc:
            yield Skipped(Path(path), self._unresolvable(path, exc))
            return
        root = _Root(path, real, st.st_dev, Path(path))
        if stat.S_ISDIR(st.st_mode):
            self.visited.add((st.st_dev, st.st_ino))
            yield from self._walk_dir(_Dir(path, "", real, root))
        elif stat.S_ISREG(st.st_mode):
            yield self._regular(path, root, st)
        else:
            yield Skipped(Path(path), _special(st.st_mode))

    def _walk_dir(self, start: _Dir) -> Iterator[FileEntry | Skipped]:
        stack = [start]
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory.path) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as exc:
                yield Skipped(Path(directory.path), _os_reason(exc))
                continue
            subdirs: list[_Dir] = []
            for entry in entries:
                yield from self._entry(directory, entry, subdirs)
            stack.extend(reversed(subdirs))

    def _entry(
        self, directory: _Dir, entry: os.DirEntry[str], subdirs: list[_Dir]
    ) -> Iterator[FileEntry | Skipped]:
        path = entry.path
        rel = f"{directory.rel}/{entry.name}" if directory.rel else entry.name
        if self._excluded(rel, entry.name, path):
            yield Skipped(Path(path), "excluded")
            return
        try:
            st = entry.stat(follow_symlinks=False)
            if st.st_ino == 0:  # Windows: scandir leaves dev and ino unset
                st = os.lstat(path)
        except OSError as exc:
            yield Skipped(Path(path), _os_reason(exc))
            return
        root = directory.root
        if _is_link(st):
            yield from self._link(directory, path, rel)
        elif self.options.one_file_system and st.st_dev != root.dev:
            yield Skipped(Path(path), "other-filesystem")
        elif stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in self.visited:  # bind mount, directory hard link
                yield Skipped(Path(path), "symlink:loop")
            else:
                self.visited.add(key)
                real = os.path.join(directory.real, entry.name)
                subdirs.append(_Dir(path, rel, real, root))
        elif stat.S_ISREG(st.st_mode):
            yield self._regular(path, root, st)
        else:
            yield Skipped(Path(path), _special(st.st_mode))

    def _link(self, directory: _Dir, path: str, rel: str) -> Iterator[Skipped]:
        """Classify a link found in ``directory``; queue it if it is to be followed."""
        resolved = self._resolve(path)
        if isinstance(resolved, str):
            yield Skipped(Path(path), resolved)
            return
        target, real, _ = resolved
        if stat.S_ISDIR(target.st_mode) and _within(directory.real, real):
            yield Skipped(Path(path), "symlink:loop")  # its own directory or an ancestor
        elif self.seen is None:
            yield Skipped(Path(path), "symlink")
        else:
            self.links.append(_Link(path, rel, directory.root))

    def _follow(self, link: _Link) -> Iterator[FileEntry | Skipped]:
        """Follow a queued link (``follow_symlinks``), after the real tree was walked."""
        resolved = self._resolve(link.path)
        if isinstance(resolved, str):
            yield Skipped(Path(link.path), resolved)
            return
        target, real, home = resolved
        key = (target.st_dev, target.st_ino)
        if self.options.one_file_system and target.st_dev != link.root.dev:
            yield Skipped(Path(link.path), "other-filesystem")
        elif key in self.visited or (self.seen is not None and key in self.seen):
            yield Skipped(Path(link.path), "symlink")  # scanned where it lies
        elif self._target_excluded(real, home):
            yield Skipped(Path(link.path), "excluded")
        elif stat.S_ISDIR(target.st_mode):
            self.visited.add(key)
            yield from self._walk_dir(_Dir(link.path, link.rel, real, link.root))
        elif stat.S_ISREG(target.st_mode):
            yield self._regular(link.path, link.root, target)
        else:  # a FIFO, socket or device: reported where it lies, never opened
            yield Skipped(Path(link.path), "symlink")

    def _resolve(self, path: str) -> tuple[os.stat_result, str, str] | str:
        """A link's target, its real path and the root holding it; or a coverage reason."""
        try:
            target = os.stat(path)
            real = os.path.realpath(path)
        except OSError as exc:
            return self._unresolvable(path, exc)
        home = next((root for root in self.reals if _within(real, root)), None)
        if home is None:
            return "symlink:outside-root"
        return target, real, home

    @staticmethod
    def _unresolvable(path: str, exc: OSError) -> str:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            try:
                os.lstat(path)
            except OSError:
                return "vanished"
            return "symlink:dangling"
        return _os_reason(exc)

    def _regular(self, path: str, root: _Root, st: os.stat_result) -> FileEntry | Skipped:
        limit = self.options.max_file_bytes
        if limit is not None and st.st_size > limit:
            return Skipped(Path(path), "limit:size", st.st_size)
        if self.seen is not None:
            self.seen.add((st.st_dev, st.st_ino))
        return FileEntry(
            path=Path(path),
            root=root.named,
            size=st.st_size,
            dev=st.st_dev,
            ino=st.st_ino,
            mtime_ns=st.st_mtime_ns,
            ctime_ns=st.st_ctime_ns,
        )

    def _excluded(self, rel: str, name: str, path: str) -> bool:
        if self.excludes is None:
            return False
        full = path.replace("\\", "/") if _WINDOWS else path
        return any(self.excludes.match(text) for text in (rel, name, full))

    def _target_excluded(self, real: str, home: str) -> bool:
        """Whether a link target lies at or under an excluded path of its own root."""
        if self.excludes is None:
            return False
        tail = os.path.normcase(real)[len(os.path.normcase(home)) :].strip(os.sep)
        rel = ""
        for name in tail.split(os.sep) if tail else ():
            rel = f"{rel}/{name}" if rel else name
            if self._excluded(rel, name, os.path.join(home, *rel.split("/"))):
                return True
        return False
