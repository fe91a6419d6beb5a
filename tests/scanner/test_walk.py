"""Tests for the filesystem walk and the read-only open (scanner/walk.py)."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.walk import FileEntry, Skipped, WalkOptions, open_readonly, walk

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
needs_symlinks = pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")


def _files(root: Path, names: dict[str, bytes]) -> None:
    for name, data in names.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _run(roots: list[Path], **options: Any) -> list[FileEntry | Skipped]:
    return list(walk(roots, WalkOptions(**options)))


def _entries(items: list[FileEntry | Skipped]) -> list[Path]:
    return [item.path for item in items if isinstance(item, FileEntry)]


def _skips(items: list[FileEntry | Skipped]) -> dict[Path, str]:
    out: dict[Path, str] = {}
    for item in items:
        if isinstance(item, Skipped):
            assert item.path not in out, f"{item.path} reported twice"
            out[item.path] = item.reason
    return out


def test_walk_yields_regular_files_with_identity(tmp_path: Path) -> None:
    """Every regular file comes back with its root, size, device, inode and times."""
    _files(tmp_path, {"a.txt": b"hello", "sub/b.csv": b"x,y\n"})
    items = _run([tmp_path])
    assert _entries(items) == [tmp_path / "a.txt", tmp_path / "sub" / "b.csv"]
    first = items[0]
    assert isinstance(first, FileEntry)
    st_a = os.lstat(tmp_path / "a.txt")
    assert (first.root, first.size, first.dev, first.ino) == (
        tmp_path,
        5,
        st_a.st_dev,
        st_a.st_ino,
    )
    assert (first.mtime_ns, first.ctime_ns) == (st_a.st_mtime_ns, st_a.st_ctime_ns)


def test_walk_returns_absolute_paths_for_relative_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative root is reported as an absolute path."""
    _files(tmp_path, {"d/f": b"1"})
    monkeypatch.chdir(tmp_path)
    assert _entries(_run([Path("d")])) == [tmp_path / "d" / "f"]


@needs_fifo
def test_walk_reports_fifo_without_opening_it(tmp_path: Path) -> None:
    """A FIFO is skipped as special:fifo (opening it would block the walk)."""
    os.mkfifo(tmp_path / "pipe")
    assert _skips(_run([tmp_path])) == {tmp_path / "pipe": "special:fifo"}


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_walk_reports_unix_socket() -> None:
    """A bound Unix socket is skipped as special:socket."""
    short = Path(tempfile.mkdtemp(prefix="fw"))  # sun_path holds about 108 bytes
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(os.fspath(short / "s"))
            assert _skips(_run([short])) == {short / "s": "special:socket"}
    finally:
        shutil.rmtree(short)


def test_walk_reports_device_node(tmp_path: Path) -> None:
    """A character device (like /dev/null) is skipped as special:device, never opened."""
    if not hasattr(os, "mknod"):
        pytest.skip("no mknod on this system")
    try:
        os.mknod(tmp_path / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating device nodes is not permitted here")
    assert _skips(_run([tmp_path])) == {tmp_path / "null": "special:device"}


@needs_symlinks
@pytest.mark.parametrize("follow", [False, True])
def test_walk_reports_symlink_loop_once(tmp_path: Path, follow: bool) -> None:
    """A link to an ancestor and an endless link chain are each reported once as a loop."""
    _files(tmp_path, {"a/b/f.txt": b"1"})
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "self").symlink_to(".")
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    items = _run([tmp_path], follow_symlinks=follow)
    assert _entries(items) == [tmp_path / "a" / "b" / "f.txt"]
    assert _skips(items) == {
        tmp_path / "a" / "b" / "up": "symlink:loop",
        tmp_path / "a" / "self": "symlink:loop",
        tmp_path / "x": "symlink:loop",
        tmp_path / "y": "symlink:loop",
    }


@needs_symlinks
@pytest.mark.parametrize("follow", [False, True])
def test_walk_never_follows_link_outside_root(tmp_path: Path, follow: bool) -> None:
    """A link resolving outside every root is reported and never followed."""
    _files(tmp_path, {"outside/secret.txt": b"1", "outside/dir/more.txt": b"2", "root/f": b"3"})
    root = tmp_path / "root"
    (root / "file-link").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "dir-link").symlink_to(tmp_path / "outside" / "dir")
    (root / "dev-link").symlink_to(os.devnull)
    items = _run([root], follow_symlinks=follow)
    assert _entries(items) == [root / "f"]
    assert _skips(items) == {
        root / "dev-link": "symlink:outside-root",
        root / "dir-link": "symlink:outside-root",
        root / "file-link": "symlink:outside-root",
    }


@needs_symlinks
def test_walk_reports_dangling_link(tmp_path: Path) -> None:
    """A link to nothing is reported as symlink:dangling."""
    (tmp_path / "gone").symlink_to(tmp_path / "never-existed")
    assert _skips(_run([tmp_path], follow_symlinks=True)) == {tmp_path / "gone": "symlink:dangling"}


@needs_symlinks
def test_walk_reports_inside_link_as_symlink_and_scans_target_once(tmp_path: Path) -> None:
    """A link inside the roots is `symlink`; its target is scanned once, where it lies."""
    _files(tmp_path, {"data/f.txt": b"1", "other/g.txt": b"2"})
    (tmp_path / "a-file").symlink_to(tmp_path / "data" / "f.txt")
    (tmp_path / "a-dir").symlink_to("other")
    for follow in (False, True):
        items = _run([tmp_path], follow_symlinks=follow)
        assert _entries(items) == [tmp_path / "data" / "f.txt", tmp_path / "other" / "g.txt"]
        assert _skips(items) == {tmp_path / "a-dir": "symlink", tmp_path / "a-file": "symlink"}


@needs_symlinks
def test_walk_follows_link_into_other_root(tmp_path: Path) -> None:
    """A link into another root counts as inside the roots; files are still yielded once."""
    _files(tmp_path, {"one/f": b"1", "two/g": b"2"})
    (tmp_path / "one" / "to-two").symlink_to(tmp_path / "two" / "g")
    roots = [tmp_path / "one", tmp_path / "two"]
    items = _run(roots, follow_symlinks=True)
    assert _entries(items) == [tmp_path / "one" / "f", tmp_path / "two" / "g"]
    assert _skips(items) == {tmp_path / "one" / "to-two": "symlink"}


@needs_symlinks
def test_walk_follows_link_to_what_the_real_walk_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With follow_symlinks, a link reaches a directory the real walk could not list."""
    _files(tmp_path, {"locked/inner/f.txt": b"1"})
    (tmp_path / "via").symlink_to(tmp_path / "locked" / "inner")
    _deny_listing(monkeypatch, tmp_path / "locked")
    items = _run([tmp_path], follow_symlinks=True)
    assert _entries(items) == [tmp_path / "via" / "f.txt"]
    assert _skips(items) == {tmp_path / "locked": "permission"}
    entry = items[-1]
    assert isinstance(entry, FileEntry)
    with open_readonly(entry) as fh:
        assert fh.read() == b"1"
    items = _run([tmp_path], follow_symlinks=True, excludes=("inner",))
    assert _skips(items) == {tmp_path / "locked": "permission", tmp_path / "via": "excluded"}


@needs_symlinks
def test_walk_follows_root_that_is_a_link(tmp_path: Path) -> None:
    """A root named as a link is walked (it was named on purpose) under its own name."""
    _files(tmp_path, {"real/f": b"1"})
    (tmp_path / "named").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "back").symlink_to(tmp_path / "real" / "f")
    items = _run([tmp_path / "named"])
    assert _entries(items) == [tmp_path / "named" / "f"]
    assert _skips(items) == {tmp_path / "named" / "back": "symlink"}


def test_walk_excludes_by_glob(tmp_path: Path) -> None:
    """Exclude globs match the relative path or base name; a directory is reported once."""
    _files(
        tmp_path,
        {
            "keep.txt": b"1",
            "disk.iso": b"2",
            "node_modules/x/y.js": b"3",
            "src/node_modules/z.js": b"4",
            "src/main.py": b"5",
            "build/out.txt": b"6",
        },
    )
    items = _run([tmp_path], excludes=("**/node_modules", "*.iso", "build/"))
    assert _entries(items) == [tmp_path / "keep.txt", tmp_path / "src" / "main.py"]
    assert _skips(items) == {
        tmp_path / "build": "excluded",
        tmp_path / "disk.iso": "excluded",
        tmp_path / "node_modules": "excluded",
        tmp_path / "src" / "node_modules": "excluded",
    }


def test_walk_skips_files_over_the_size_limit(tmp_path: Path) -> None:
    """Files larger than max_file_bytes are skipped as limit:size, with their size."""
    _files(tmp_path, {"small": b"x" * 10, "exact": b"x" * 11, "big": b"x" * 12})
    items = _run([tmp_path], max_file_bytes=11)
    assert _entries(items) == [tmp_path / "exact", tmp_path / "small"]
    assert [item for item in items if isinstance(item, Skipped)] == [
        Skipped(tmp_path / "big", "limit:size", 12)
    ]


def test_walk_nested_roots_walked_once(tmp_path: Path) -> None:
    """A root inside another root (or named twice) is walked once, as part of the outer."""
    _files(tmp_path, {"a/b/f": b"1", "a/g": b"2"})
    roots = [tmp_path / "a" / "b", tmp_path / "a", tmp_path / "a" / "b" / "f", tmp_path / "a"]
    items = _run(roots)
    assert _entries(items) == [tmp_path / "a" / "g", tmp_path / "a" / "b" / "f"]
    assert {item.root for item in items if isinstance(item, FileEntry)} == {tmp_path / "a"}


def test_walk_root_that_is_a_file_yields_it(tmp_path: Path) -> None:
    """A root that is a regular file yields that file."""
    _files(tmp_path, {"one.txt": b"abc"})
    path = tmp_path / "one.txt"
    st_f = os.stat(path)
    identity = (st_f.st_dev, st_f.st_ino, st_f.st_mtime_ns, st_f.st_ctime_ns)
    assert _run([path]) == [FileEntry(path, path, 3, *identity)]


def test_walk_reports_missing_root(tmp_path: Path) -> None:
    """A root that does not exist is reported, not raised."""
    assert _run([tmp_path / "nope"]) == [Skipped(tmp_path / "nope", "vanished")]


def test_walk_order_is_deterministic(tmp_path: Path) -> None:
    """Names are sorted; a directory's entries come before its subdirectories' entries."""
    for name in ["zeta/2", "b", "alpha/z", "alpha/a", "a", "zeta/1", "alpha/m/k"]:
        _files(tmp_path, {name: b"."})
    expected = ["a", "b", "alpha/a", "alpha/z", "alpha/m/k", "zeta/1", "zeta/2"]
    first = _entries(_run([tmp_path]))
    assert first == [tmp_path / name for name in expected]
    assert _entries(_run([tmp_path])) == first


def test_walk_yields_every_hard_link_path(tmp_path: Path) -> None:
    """Hard links are separate paths: each is reported (each is a copy to clean up)."""
    _files(tmp_path, {"a": b"1"})
    os.link(tmp_path / "a", tmp_path / "b")
    assert _entries(_run([tmp_path])) == [tmp_path / "a", tmp_path / "b"]


def test_walk_handles_deep_trees_iteratively(tmp_path: Path) -> None:
    """A tree deeper than the recursion limit is walked without error."""
    deep = os.fspath(tmp_path)
    for _ in range(1200):  # Path.mkdir(parents=True) itself recurses
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    Path(deep, "f").write_bytes(b"1")
    try:
        assert _entries(_run([tmp_path])) == [Path(deep, "f")]
    finally:  # shutil.rmtree, used by tmp_path's cleanup, would recurse as deep
        os.unlink(os.path.join(deep, "f"))
        while deep != os.fspath(tmp_path):
            os.rmdir(deep)
            deep = os.path.dirname(deep)


def _deny_listing(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if Path(path) == denied:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_walk_reports_permission_denied_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that cannot be listed is one Skipped(permission); the walk goes on."""
    _files(tmp_path, {"a/f": b"1", "locked/g": b"2", "z/h": b"3"})
    _deny_listing(monkeypatch, tmp_path / "locked")
    items = _run([tmp_path])
    assert _entries(items) == [tmp_path / "a" / "f", tmp_path / "z" / "h"]
    assert _skips(items) == {tmp_path / "locked": "permission"}


def test_walk_reports_other_errors_as_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error while listing a directory is reported as unreadable, not raised."""
    _files(tmp_path, {"bad/f": b"1", "good/g": b"2"})
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if Path(path) == tmp_path / "bad":
            raise OSError(errno.EIO, "Input/output error", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = _run([tmp_path])
    assert _entries(items) == [tmp_path / "good" / "g"]
    assert _skips(items) == {tmp_path / "bad": "unreadable"}


@needs_fifo
def test_walk_reports_special_root(tmp_path: Path) -> None:
    """A root that is a FIFO is reported as special:fifo and never opened."""
    os.mkfifo(tmp_path / "pipe")
    assert _run([tmp_path / "pipe"]) == [Skipped(tmp_path / "pipe", "special:fifo")]


@needs_fifo
@needs_symlinks
def test_walk_reports_link_to_fifo_as_symlink(tmp_path: Path) -> None:
    """A followed link to a FIFO inside the roots is `symlink`; the FIFO is reported once."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to-pipe").symlink_to(tmp_path / "pipe")
    assert _skips(_run([tmp_path], follow_symlinks=True)) == {
        tmp_path / "pipe": "special:fifo",
        tmp_path / "to-pipe": "symlink",
    }


def test_walk_reports_file_vanished_after_listing(tmp_path: Path) -> None:
    """A file deleted between listing and stat is reported as vanished."""
    _files(tmp_path, {"a": b"1", "b": b"2"})
    items = walk([tmp_path])
    first = next(items)
    assert isinstance(first, FileEntry)
    assert first.path == tmp_path / "a"
    (tmp_path / "b").unlink()
    rest = list(items)
    if rest == []:  # pragma: no cover - a system whose scandir caches stat data
        pytest.skip("scandir cached the stat data")
    assert rest == [Skipped(tmp_path / "b", "vanished")]


def test_walk_reports_other_filesystem_once_per_mount() -> None:
    """With one_file_system, a mount point inside the root is skipped once, not descended."""
    root = Path("/dev")
    try:
        with os.scandir(root) as listing:
            mounts = sorted(
                Path(entry.path)
                for entry in listing
                if entry.is_dir(follow_symlinks=False) and os.path.ismount(entry.path)
            )
    except OSError:  # pragma: no cover - no /dev here
        mounts = []
    if not mounts:
        pytest.skip("no mount point below /dev to test with")
    items = _run([root], one_file_system=True)
    skips = _skips(items)
    assert {path for path, reason in skips.items() if reason == "other-filesystem"} >= set(mounts)
    assert not any(item.path.parent in mounts for item in items)
    assert all(reason != "permission" for reason in skips.values())


def _entry_for(path: Path) -> FileEntry:
    items = _run([path])
    assert len(items) == 1
    assert isinstance(items[0], FileEntry)
    return items[0]


def test_walk_open_readonly_reads_the_file(tmp_path: Path) -> None:
    """open_readonly returns a buffered binary reader of the entry's bytes."""
    _files(tmp_path, {"f": b"line 1\r\nline 2\n"})
    with open_readonly(_entry_for(tmp_path / "f")) as fh:
        assert fh.read() == b"line 1\r\nline 2\n"


def test_walk_open_readonly_keeps_atime(tmp_path: Path) -> None:
    """Reading through open_readonly does not change the access time (O_NOATIME)."""
    if not hasattr(os, "O_NOATIME"):
        pytest.skip("no O_NOATIME on this system")
    _files(tmp_path, {"f": b"data" * 1000})
    old = 946_684_800_000_000_000  # 2000-01-01: relatime would update an atime this old
    os.utime(tmp_path / "f", ns=(old, os.stat(tmp_path / "f").st_mtime_ns))
    entry = _entry_for(tmp_path / "f")
    with open_readonly(entry) as fh:
        assert len(fh.read()) == 4000
    assert os.stat(tmp_path / "f").st_atime_ns == old


def test_walk_open_readonly_detects_swapped_file(tmp_path: Path) -> None:
    """A file replaced by another inode after the walk raises ExtractError('changed')."""
    _files(tmp_path, {"f": b"original", "g": b"impostor"})
    entry = _entry_for(tmp_path / "f")
    os.replace(tmp_path / "g", tmp_path / "f")
    with pytest.raises(ExtractError) as caught:
        open_readonly(entry)
    assert caught.value.reason == "changed"


@needs_fifo
def test_walk_open_readonly_refuses_file_swapped_for_fifo(tmp_path: Path) -> None:
    """A file replaced by a FIFO after the walk is refused as changed, without blocking."""
    _files(tmp_path, {"f": b"original"})
    entry = _entry_for(tmp_path / "f")
    (tmp_path / "f").unlink()
    os.mkfifo(tmp_path / "f")
    with pytest.raises(ExtractError) as caught:
        open_readonly(entry)
    assert caught.value.reason == "changed"


@needs_symlinks
def test_walk_open_readonly_refuses_file_swapped_for_link(tmp_path: Path) -> None:
    """A file replaced by a link (even to the same file) is refused as changed."""
    _files(tmp_path, {"f": b"original"})
    entry = _entry_for(tmp_path / "f")
    os.replace(tmp_path / "f", tmp_path / "moved")
    (tmp_path / "f").symlink_to(os.devnull)
    with pytest.raises(ExtractError) as caught:
        open_readonly(entry)
    assert caught.value.reason == "changed"


def test_walk_open_readonly_closes_fd_when_fstat_disagrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A swap between lstat and open is caught by fstat, and the descriptor is closed."""
    _files(tmp_path, {"f": b"original"})
    entry = _entry_for(tmp_path / "f")
    real_fstat = os.fstat
    opened: list[int] = []

    def fstat(fd: int) -> os.stat_result:
        opened.append(fd)
        values = list(real_fstat(fd))
        values[stat.ST_INO] += 1
        return os.stat_result(values)

    monkeypatch.setattr(os, "fstat", fstat)
    with pytest.raises(ExtractError) as caught:
        open_readonly(entry)
    assert caught.value.reason == "changed"
    monkeypatch.undo()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(opened[0])


def test_walk_open_readonly_reports_vanished(tmp_path: Path) -> None:
    """A file deleted between walk and open raises ExtractError('vanished')."""
    _files(tmp_path, {"f": b"original"})
    entry = _entry_for(tmp_path / "f")
    (tmp_path / "f").unlink()
    with pytest.raises(ExtractError) as caught:
        open_readonly(entry)
    assert caught.value.reason == "vanished"


def test_walk_open_readonly_retries_without_noatime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When O_NOATIME is refused (EPERM, file of another user), the open is retried."""
    noatime = getattr(os, "O_NOATIME", 0)
    if not noatime:
        pytest.skip("no O_NOATIME on this system")
    _files(tmp_path, {"f": b"data"})
    entry = _entry_for(tmp_path / "f")
    real_open = os.open
    seen: list[int] = []

    def fake_open(path: str, flags: int, *args: int) -> int:
        seen.append(flags)
        if flags & noatime:
            raise PermissionError(1, "Operation not permitted")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    with open_readonly(entry) as fh:
        assert fh.read() == b"data"
    assert [bool(flags & noatime) for flags in seen] == [True, False]


# A random tree: a directory is a dict of names; leaves are regular files, FIFOs or links.
_NAMES = st.text(alphabet="abc_.-0", min_size=1, max_size=3).filter(lambda n: n not in {".", ".."})
_LEAVES = st.sampled_from(["file", "file", "fifo" if hasattr(os, "mkfifo") else "file", "link"])
_TREES = st.dictionaries(
    _NAMES,
    st.recursive(_LEAVES, lambda kids: st.dictionaries(_NAMES, kids, max_size=4), max_leaves=12),
    max_size=5,
)


def _materialise(root: Path, tree: dict[str, object], out: dict[str, list[Path]]) -> None:
    for name, node in tree.items():
        path = root / name
        if isinstance(node, dict):
            path.mkdir()
            out["dir"].append(path)
            _materialise(path, node, out)
        elif node == "file":
            path.write_bytes(name.encode())
            out["file"].append(path)
        elif node == "fifo":
            os.mkfifo(path)
            out["fifo"].append(path)
        else:
            out["link"].append(path)


@needs_symlinks
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_TREES, follow=st.booleans(), data=st.data())
def test_walk_covers_random_trees_exactly_once(
    tree: dict[str, object], follow: bool, data: st.DataObject
) -> None:
    """Every regular file is one FileEntry; every other non-directory is one Skipped."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "root"
        root.mkdir()
        (base / "outside").write_bytes(b"o")
        made: dict[str, list[Path]] = {"dir": [], "file": [], "fifo": [], "link": []}
        _materialise(root, tree, made)
        targets = [root, *made["dir"], *made["file"], *made["link"], base / "outside"]
        for link in made["link"]:
            target = data.draw(st.sampled_from([*targets, root / "missing"]))
            link.symlink_to(target)
        items = list(walk([root], WalkOptions(follow_symlinks=follow)))

        counts = Counter(item.path for item in items)
        assert all(count == 1 for count in counts.values()), counts
        assert sorted(_entries(items)) == sorted(made["file"])
        non_dirs = {*made["file"], *made["fifo"], *made["link"]}
        assert set(counts) == non_dirs
        for item in items:
            if isinstance(item, Skipped):
                expected = "special:fifo" if item.path in made["fifo"] else "symlink"
                assert item.reason.startswith(expected), item
        assert list(walk([root], WalkOptions(follow_symlinks=follow))) == items
