"""The raw store: paths, atomic writes (property-tested against crashes), manifest, player lock."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters.raw_store as raw_store
from adapters.raw_store import PlayerLockedError, RawStore, atomic_write
from transforms.usernames import InvalidUsernameError


def body(n_games: int, tag: str = "x") -> bytes:
    games = [{"url": f"https://www.chess.com/game/live/{i}", "tag": tag} for i in range(n_games)]
    return json.dumps({"games": games}, separators=(",", ":")).encode()


def test_layout_and_manifest(tmp_path: Path, fixtures_dir: Path) -> None:
    store = RawStore(tmp_path)
    data = (fixtures_dir / "magnuscarlsen" / "2024" / "01.json").read_bytes()
    games = len(json.loads(data)["games"])
    assert store.write_month("MagnusCarlsen", "2024-01", data, etag='W/"a"', last_modified="x")
    assert (tmp_path / "magnuscarlsen" / "2024" / "01.json").read_bytes() == data
    assert store.month_path("magnuscarlsen", "2024-01") == tmp_path / "magnuscarlsen/2024/01.json"
    assert store.stored_months("magnuscarlsen") == ["2024-01"]
    assert store.read_month("magnuscarlsen", "2024-01") == data
    record = store.manifest("magnuscarlsen")["2024-01"]
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.bytes, record.game_count, record.etag) == (len(data), games, 'W/"a"')
    assert record.last_status == "200"
    # Same bytes again: the file is not rewritten.
    before = store.month_path("magnuscarlsen", "2024-01").stat().st_mtime_ns
    time.sleep(0.01)
    assert not store.write_month("magnuscarlsen", "2024-01", data, etag='W/"b"')
    assert store.month_path("magnuscarlsen", "2024-01").stat().st_mtime_ns == before
    assert store.manifest("magnuscarlsen")["2024-01"].etag == 'W/"b"'


def test_empty_month_is_valid_and_bad_bodies_are_refused(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    store.write_month("p", "2023-10", b'{"games":[]}')
    assert store.manifest("p")["2023-10"].game_count == 0
    with pytest.raises(raw_store.RawStoreError):
        store.write_month("p", "2023-11", b'{"games":[')
    with pytest.raises(raw_store.RawStoreError):
        store.write_month("p", "2023-11", b'{"archives":[]}')
    assert store.stored_months("p") == ["2023-10"]


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "x" * 51, "na\u00efve", "a b"])
def test_usernames_and_months_are_validated_before_touching_paths(tmp_path: Path, bad: str) -> None:
    store = RawStore(tmp_path)
    with pytest.raises(InvalidUsernameError):
        store.month_path(bad, "2024-01")


@pytest.mark.parametrize(
    "bad", ["2024-13", "2024-1", "../../x", "2024/01/..", "24-01", "\u0662\u0660\u0662\u0664-01"]
)
def test_months_are_validated(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        RawStore(tmp_path).month_path("player", bad)


class _CrashError(Exception):
    pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    old=st.one_of(st.none(), st.binary(max_size=3000)),
    new=st.binary(max_size=3000),
    cut=st.floats(min_value=0, max_value=1),
)
def test_a_write_killed_at_any_byte_leaves_the_old_or_the_new_file(
    tmp_path: Path, old: bytes | None, new: bytes, cut: float
) -> None:
    target = tmp_path / "p" / "2024" / "01.json"
    if target.exists():
        target.unlink()
    if old is not None:
        atomic_write(target, old)
    k = int(cut * len(new))
    original = raw_store._write_bytes

    def dying_write(handle: BinaryIO, data: bytes) -> None:
        handle.write(data[:k])
        handle.flush()
        raise _CrashError(f"killed after {k} bytes")

    raw_store._write_bytes = dying_write
    try:
        with pytest.raises(_CrashError):
            atomic_write(target, new)
    finally:
        raw_store._write_bytes = original
    if old is None:
        assert not target.exists()
    else:
        assert target.read_bytes() in (old, new)
        assert target.read_bytes() == old
    # No torn temp file is left next to it for a reader to pick up.
    assert [p.name for p in target.parent.iterdir()] == ([target.name] if old is not None else [])


def test_a_crashed_write_through_the_store_keeps_month_and_manifest(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    old = body(3, "old")
    store.write_month("p", "2024-01", old, etag='W/"old"')
    original = raw_store._write_bytes

    def dying_write(handle: BinaryIO, data: bytes) -> None:
        handle.write(data[:10])
        raise OSError("disk full")

    raw_store._write_bytes = dying_write
    try:
        with pytest.raises(OSError, match="disk full"):
            store.write_month("p", "2024-01", body(5, "new"), etag='W/"new"')
    finally:
        raw_store._write_bytes = original
    assert store.read_month("p", "2024-01") == old
    assert store.manifest("p")["2024-01"].etag == 'W/"old"'
    assert store.manifest("p")["2024-01"].game_count == 3


def test_lock_refuses_a_second_holder_and_frees_on_exit(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    errors: list[BaseException] = []

    def take(user: str) -> None:
        try:
            with store.lock(user, timeout=0.1):
                pass
        except PlayerLockedError as error:
            errors.append(error)

    def in_thread(user: str) -> None:
        thread = threading.Thread(target=take, args=(user,))
        thread.start()
        thread.join()

    with store.lock("p"):
        in_thread("p")
        assert len(errors) == 1
        assert "'p'" in str(errors[0])
        in_thread("other")  # different players do not block each other
        assert len(errors) == 1
    in_thread("p")
    assert len(errors) == 1


def test_lock_makes_a_second_refresh_wait_instead_of_interleaving(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    events: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with store.lock("p"):
            events.append("first start")
            first_in.set()
            time.sleep(0.2)
            events.append("first end")

    def second() -> None:
        first_in.wait()
        with store.lock("p", timeout=10):
            events.append("second start")
            events.append("second end")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert events == ["first start", "first end", "second start", "second end"]


def test_lock_is_held_across_processes(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: take the lock, tell the parent, hold it until killed
        os.close(read_fd)
        try:
            with store.lock("p"):
                os.write(write_fd, b"x")
                time.sleep(30)
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        assert os.read(read_fd, 1) == b"x"
        with pytest.raises(PlayerLockedError, match="pid"), store.lock("p", timeout=0.1):
            pass
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_fd)
    with store.lock("p", timeout=5):
        pass  # the kernel released the dead holder's lock


def test_lock_is_reentrant_in_one_thread_and_only_the_outermost_exit_unlocks(
    tmp_path: Path,
) -> None:
    store = RawStore(tmp_path)
    other_result: list[str] = []

    def try_from_another_thread() -> None:
        try:
            with store.lock("p", timeout=0.1):
                other_result.append("acquired")
        except PlayerLockedError:
            other_result.append("refused")

    with store.lock("P"):
        # Same thread, another RawStore over the same root, mixed case: re-entry, no wait.
        with RawStore(tmp_path).lock("p", timeout=0):
            thread = threading.Thread(target=try_from_another_thread)
            thread.start()
            thread.join()
        # The inner exit did not unlock: another thread is still refused.
        thread = threading.Thread(target=try_from_another_thread)
        thread.start()
        thread.join()
    assert other_result == ["refused", "refused"]
    thread = threading.Thread(target=try_from_another_thread)
    thread.start()
    thread.join()
    assert other_result == ["refused", "refused", "acquired"]


def test_a_reentered_lock_still_excludes_another_process(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    with store.lock("p"), store.lock("p"):
        pid = os.fork()
        if pid == 0:  # child: must be refused although it forked from the holding thread
            code = 1
            try:
                with store.lock("p", timeout=0.1):
                    code = 2
            except PlayerLockedError:
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    # Both levels exited: a new process takes it.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with store.lock("p", timeout=5):
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_non_ascii_digit_folders_are_not_months(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    store.write_month("p", "2024-01", body(1))
    odd = tmp_path / "p" / "\uff12\uff10\uff12\uff14"  # fullwidth "2024"
    odd.mkdir()
    (odd / "01.json").write_bytes(body(1))
    assert store.stored_months("p") == ["2024-01"]


def test_taking_the_lock_removes_stale_temp_files_only(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    store.write_month("p", "2024-01", body(2))
    month_dir = tmp_path / "p" / "2024"
    old = time.time() - 3600
    stale = [month_dir / ".01.json.123.abcd1234.tmp", tmp_path / "p" / ".manifest.json.9.ff.tmp"]
    fresh = month_dir / ".02.json.456.beef0000.tmp"
    for path in [*stale, fresh]:
        path.write_bytes(b'{"games":[')  # a write killed part-way
    for path in stale:
        os.utime(path, (old, old))
    other = month_dir / "notes.tmp"  # not a temp file of ours (no leading dot)
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    before = store.read_month("p", "2024-01")
    with store.lock("p"):
        pass
    assert [p.exists() for p in stale] == [False, False]
    assert fresh.exists()
    assert other.exists()
    assert store.read_month("p", "2024-01") == before
    assert store.manifest("p")["2024-01"].game_count == 2
