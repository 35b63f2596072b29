"""Group commit: writes that arrive while a transaction commits share the next one, and
each keeps its own answer."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger.errors import Unavailable
from ledger.group_commit import GroupCommit


class Store:
    """A fake store: ``many`` commits a group, ``one`` a single write; a write of "bad"
    fails, and fails any group it is in (like a duplicate id fails an INSERT)."""

    def __init__(self) -> None:
        self.transactions: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def many(self, items):
        self.gate.wait(5)
        if "bad" in items:
            raise ValueError("a duplicate in the group")
        self.transactions.append(list(items))
        return [f"stored {i}" for i in items]

    def one(self, item):
        if item == "bad":
            raise ValueError("bad is a duplicate")
        self.transactions.append([item])
        return f"stored {item}"


def wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_lone_write_commits_at_once_on_its_own():
    store = Store()
    group = GroupCommit(store.many, store.one)
    assert group.submit("a") == "stored a"
    assert store.transactions == [["a"]]


def test_writes_arriving_during_a_commit_share_the_next_transaction():
    store = Store()
    group = GroupCommit(store.many, store.one)
    store.gate.clear()  # the first transaction hangs until the others have queued
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.submit, "first")
        wait_until(lambda: group.waiting == 0 and group.stats.transactions == 0)
        rest = [pool.submit(group.submit, f"w{i}") for i in range(5)]
        wait_until(lambda: group.waiting == 5)
        store.gate.set()
        assert first.result() == "stored first"
        assert [f.result() for f in rest] == [f"stored w{i}" for i in range(5)]
    assert store.transactions[0] == ["first"]
    assert sorted(store.transactions[1]) == [f"w{i}" for i in range(5)]
    assert group.stats.largest == 5
    assert group.stats.transactions == 2


def test_a_failing_write_fails_alone_and_its_neighbours_are_stored():
    store = Store()
    group = GroupCommit(store.many, store.one)
    store.gate.clear()
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, "first")
        wait_until(lambda: group.stats.transactions == 0 and group.waiting == 0)
        others = {name: pool.submit(group.submit, name) for name in ("x", "bad", "y")}
        wait_until(lambda: group.waiting == 3)
        store.gate.set()
        first.result()
        assert others["x"].result() == "stored x"
        assert others["y"].result() == "stored y"
        with pytest.raises(ValueError, match="bad is a duplicate"):
            others["bad"].result()
    assert group.stats.split == 1
    assert ["bad"] not in store.transactions


def test_many_writers_each_get_their_own_answer():
    store = Store()
    group = GroupCommit(store.many, store.one, max_group=7)
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(group.submit, [f"w{i}" for i in range(500)]))
    assert answers == [f"stored w{i}" for i in range(500)]
    assert sorted(i for t in store.transactions for i in t) == sorted(f"w{i}" for i in range(500))
    assert group.stats.largest <= 7
    assert group.waiting == 0


def test_an_error_in_a_lone_write_is_its_answer_and_the_next_write_still_commits():
    store = Store()
    group = GroupCommit(store.many, store.one)
    with pytest.raises(ValueError, match="duplicate"):
        group.submit("bad")
    assert group.submit("ok") == "stored ok"


def test_writes_from_an_event_loop_share_transactions_and_keep_their_own_answers():
    """The HTTP path awaits its write on the loop: no worker thread per request, the same
    answers as from threads, a failing write failing alone."""
    import asyncio

    store = Store()
    group = GroupCommit(store.many, store.one)

    async def main():
        store.gate.clear()  # the first transaction waits until the rest have queued
        first = asyncio.ensure_future(group.submit_async("first"))
        await asyncio.sleep(0)  # the task runs up to its await: it has queued its write
        await asyncio.to_thread(wait_until, lambda: not group.waiting)  # the writer took it
        names = ["x", "bad", "y", "z"]
        rest = [asyncio.ensure_future(group.submit_async(n)) for n in names]
        await asyncio.sleep(0)
        assert group.waiting == 4
        store.gate.set()
        answers = await asyncio.gather(first, *rest, return_exceptions=True)
        return answers

    answers = asyncio.run(main())
    assert answers[:2] == ["stored first", "stored x"]
    assert isinstance(answers[2], ValueError)
    assert answers[3:] == ["stored y", "stored z"]
    assert group.stats.split == 1
    group.close()


def test_a_request_that_goes_away_leaves_its_write_stored_and_the_writer_running():
    import asyncio

    store = Store()
    group = GroupCommit(store.many, store.one)

    async def main():
        store.gate.clear()
        gone = asyncio.ensure_future(group.submit_async("gone"))
        await asyncio.sleep(0)  # queued
        await asyncio.to_thread(wait_until, lambda: not group.waiting)  # being committed
        gone.cancel()  # the client disconnected while its write was committing
        store.gate.set()
        return await group.submit_async("next")

    assert asyncio.run(main()) == "stored next"
    assert ["gone"] in store.transactions
    group.close()


def test_closing_answers_what_is_queued_and_refuses_more():
    store = Store()
    group = GroupCommit(store.many, store.one)
    store.gate.clear()
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(group.submit, "first")
        wait_until(lambda: group.stats.transactions == 0 and group.waiting == 0)
        queued = pool.submit(group.submit, "queued")
        wait_until(lambda: group.waiting == 1)
        closing = pool.submit(group.close)
        store.gate.set()
        closing.result()
        assert (first.result(), queued.result()) == ("stored first", "stored queued")
    with pytest.raises(Unavailable, match="shutting down"):  # 503 with Retry-After
        group.submit("late")
