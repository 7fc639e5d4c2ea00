"""The page/response cache computes an uncached entry once, however many threads ask at once."""

from __future__ import annotations

import threading
import time

import pytest

from wijkmonitor.web.data import LRU


def _run_threads(n, target):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = target()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results, errors


def test_concurrent_misses_of_one_key_compute_once():
    lru, calls = LRU(8), []

    def render():
        calls.append(1)
        time.sleep(0.2)  # long enough for every other thread to arrive
        return b"page"

    results, errors = _run_threads(12, lambda: lru.get_or_put("k", render))
    assert errors == [None] * 12
    assert results == [b"page"] * 12
    assert len(calls) == 1
    assert lru.get("k") == b"page"


def test_different_keys_do_not_wait_for_each_other():
    lru, started = LRU(8), threading.Event()
    release = threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "slow"

    t = threading.Thread(target=lambda: lru.get_or_put("a", slow))
    t.start()
    assert started.wait(5)
    t0 = time.perf_counter()
    assert lru.get_or_put("b", lambda: "fast") == "fast"  # not blocked by the flight of "a"
    assert time.perf_counter() - t0 < 1
    release.set()
    t.join(5)
    assert lru.get("a") == "slow"


def test_a_failing_leader_does_not_poison_the_key():
    lru, calls = LRU(8), []
    lock = threading.Lock()

    def render():
        with lock:
            calls.append(1)
            first = len(calls) == 1
        time.sleep(0.1)
        if first:
            raise RuntimeError("kapot")
        return "ok"

    results, errors = _run_threads(4, lambda: lru.get_or_put("k", render))
    assert sum(isinstance(e, RuntimeError) for e in errors) == 1
    assert [r for r in results if r is not None] == ["ok"] * 3
    assert lru.get("k") == "ok"
    assert lru._flights == {}  # nothing left waiting


def test_a_value_that_is_evicted_at_once_still_reaches_the_waiters():
    lru = LRU(1, maxbytes=1)  # a 4-byte value is kept (one entry always stays); then a bigger one
    lru.put("x", b"1234")
    assert lru.get_or_put("y", lambda: b"56789") == b"56789"
    assert lru.get("x") is None


if __name__ == "__main__":
    pytest.main([__file__])
