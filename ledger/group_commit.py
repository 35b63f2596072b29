"""Group commit: concurrent single writes share one transaction.

Writes queue; one writer thread takes everything waiting (up to ``max_group``) into the
next transaction. Nobody waits on a timer: an idle ledger commits a lone write at once,
and a busy one pays one lock, one fsync and one ``NOTIFY`` for many requests.

Each write keeps its own answer. When a group's transaction fails (for example one of its
writes repeats an id already stored), each write of the group is tried again on its own, so
that a failure is only ever the answer of the write that caused it.

A write is submitted from a worker thread (``submit`` blocks until it is answered) or from
an event loop (``await submit_async``): the HTTP path does the latter, so a request costs
no hand-off to a worker thread, and a whole group's answers go back to the loop in one
call rather than one wake-up a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ledger.errors import Unavailable

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    """One queued write and, once committed, its answer."""

    __slots__ = ("error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set whenever error is not


class _ThreadSlot(_Slot[T, R]):
    __slots__ = ("done",)

    def __init__(self, item: T) -> None:
        super().__init__(item)
        self.done = threading.Event()


class _LoopSlot(_Slot[T, R]):
    __slots__ = ("future", "loop")

    def __init__(self, item: T, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(item)
        self.loop = loop
        self.future: asyncio.Future[R] = loop.create_future()

    def settle(self) -> None:
        """On the loop: hand the answer to the awaiting request (unless it went away)."""
        if self.future.done():  # the request was cancelled; its write stands
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)  # type: ignore[arg-type]  # set when no error


def _settle_all(slots: list[_LoopSlot[T, R]]) -> None:
    for slot in slots:
        try:
            slot.settle()
        except Exception as error:  # one odd answer must not strand the rest
            if not slot.future.done():
                slot.future.set_exception(RuntimeError(f"the write's answer was lost: {error!r}"))


@dataclass
class GroupStats:
    transactions: int = 0
    writes: int = 0
    largest: int = 0
    split: int = 0  # groups whose transaction failed and were retried one by one


class GroupCommit(Generic[T, R]):
    """``submit(item)`` commits ``item`` with whatever else is waiting, and answers for it.

    ``commit_many(items)`` stores all items in one transaction and returns one result per
    item, in order; ``commit_one(item)`` stores one (used when a group's transaction fails).
    """

    def __init__(
        self,
        commit_many: Callable[[Sequence[T]], Sequence[R]],
        commit_one: Callable[[T], R],
        max_group: int = 64,
    ) -> None:
        self._commit_many = commit_many
        self._commit_one = commit_one
        self.max_group = max_group
        self._wake = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        self._writer: threading.Thread | None = None
        self._closed = False
        self.stats = GroupStats()

    @property
    def waiting(self) -> int:
        """Writes queued for the next transaction."""
        with self._wake:
            return len(self._queue)

    def submit(self, item: T) -> R:
        """Commit ``item`` and return its result (or raise its error); blocks."""
        slot: _ThreadSlot[T, R] = _ThreadSlot(item)
        self._enqueue(slot)
        slot.done.wait()
        return slot.outcome()

    async def submit_async(self, item: T) -> R:
        """``submit`` for a caller on an event loop, without blocking it."""
        slot: _LoopSlot[T, R] = _LoopSlot(item, asyncio.get_running_loop())
        self._enqueue(slot)
        return await slot.future

    def close(self) -> None:
        """Answer what is queued, then stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._writer is not None:
            self._writer.join(timeout=30)

    def _enqueue(self, slot: _Slot[T, R]) -> None:
        with self._wake:
            if self._closed:
                raise Unavailable("the ledger is shutting down; retry shortly", retry_after=5)
            if self._writer is None:
                writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
                writer.start()  # before it is recorded: a thread that failed to start is none
                self._writer = writer
            self._queue.append(slot)
            self._wake.notify()

    def _write(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:  # closed, and everything answered
                    return
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
            self._commit(group)

    def _commit(self, group: list[_Slot[T, R]]) -> None:
        try:
            try:
                results = self._commit_many([s.item for s in group])
            except Exception as error:  # each write of the group is retried alone below
                if len(group) == 1:
                    group[0].error = error
                    return
                self.stats.split += 1
                for s in group:
                    try:
                        s.result = self._commit_one(s.item)
                    except Exception as own_error:  # that write's own answer
                        s.error = own_error
                return
            for s, result in zip(group, results, strict=True):
                s.result = result
        except BaseException as error:
            for s in group:
                if s.result is None and s.error is None:
                    s.error = RuntimeError(f"the write's transaction was interrupted: {error!r}")
        finally:
            self.stats.transactions += 1
            self.stats.writes += len(group)
            self.stats.largest = max(self.stats.largest, len(group))
            self._answer(group)

    @staticmethod
    def _answer(group: list[_Slot[T, R]]) -> None:
        on_loops: dict[asyncio.AbstractEventLoop, list[_LoopSlot[T, R]]] = {}
        for s in group:
            if isinstance(s, _LoopSlot):
                on_loops.setdefault(s.loop, []).append(s)
            elif isinstance(s, _ThreadSlot):
                s.done.set()
        for loop, slots in on_loops.items():
            # A loop that has closed has nobody waiting on it any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle_all, slots)
