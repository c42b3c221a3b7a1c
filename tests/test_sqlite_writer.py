"""The SQLite writer queue (examsys.sqlite_writer): one turn at a time across threads and
processes, reentrant per thread, released on every path."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from examsys import sqlite_writer


def _hold_in_child(database: str, held, release) -> None:
    sqlite_writer.acquire(database)
    held.set()
    release.wait(30)
    sqlite_writer.release()


def _acquire_in_thread(database: str) -> tuple[threading.Thread, threading.Event]:
    got = threading.Event()

    def run():
        with sqlite_writer.turn(database):
            got.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, got


def test_lock_path_beside_the_database_and_none_in_memory(tmp_path):
    assert sqlite_writer.lock_path(str(tmp_path / "x.db")) == str(tmp_path / "x.db") + "-writer.lock"
    for database in (None, "", ":memory:", "file:x?mode=memory"):
        assert sqlite_writer.lock_path(database) is None


def test_another_process_waits_for_the_turn(tmp_path):
    database = str(tmp_path / "q.db")
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_in_child, args=(database, held, release))
    child.start()
    try:
        assert held.wait(30), "the child never got its turn"
        thread, got = _acquire_in_thread(database)
        assert not got.wait(0.3), "took the turn while another process held it"
        release.set()
        assert got.wait(30), "the turn never came after the other process let go"
        thread.join(30)
    finally:
        release.set()
        child.join(30)
    assert child.exitcode == 0
    assert os.path.exists(database + "-writer.lock")


def test_reentrant_per_thread_and_exclusive_between_threads(tmp_path):
    database = str(tmp_path / "r.db")
    sqlite_writer.acquire(database)
    sqlite_writer.acquire(database)  # nested: no deadlock
    assert sqlite_writer.held()
    thread, got = _acquire_in_thread(database)
    sqlite_writer.release()
    assert not got.wait(0.2), "the inner release gave the turn away"
    sqlite_writer.release()
    assert not sqlite_writer.held()
    assert got.wait(30)
    thread.join(30)


def test_turn_is_released_when_the_body_raises(tmp_path):
    database = str(tmp_path / "e.db")
    with pytest.raises(RuntimeError), sqlite_writer.turn(database):
        raise RuntimeError("boom")
    assert not sqlite_writer.held()
    thread, got = _acquire_in_thread(database)
    assert got.wait(30)
    thread.join(30)


def test_unwritable_directory_falls_back_to_the_process_lock(tmp_path):
    database = str(tmp_path / "missing-dir" / "x.db")  # the lock file cannot be created there
    with sqlite_writer.turn(database):
        assert sqlite_writer.held()
    assert not sqlite_writer.held()
    assert sqlite_writer._files[(os.getpid(), sqlite_writer.lock_path(database))] is None  # refused, remembered
    thread, got = _acquire_in_thread(database)
    assert got.wait(30)
    thread.join(30)
