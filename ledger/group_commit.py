"""Group commit: concurrent single writes share one transaction.

While one transaction commits, the writes that arrive queue; the next transaction takes
them all (up to ``max_group``). Nobody waits on a timer: an idle ledger commits a lone
write at once, and a busy one pays one lock, one fsync and one ``NOTIFY`` for many
requests.

Each write keeps its own answer. When a group's transaction fails (for example one of its
writes repeats an id already stored), each write of the group is tried again on its own, so
that a failure is only ever the answer of the write that caused it.

The writer that finds nobody committing leads: it commits groups until its own write has
been answered, then hands the lead to the first write still queued (its thread wakes and
leads), so no request serves others for longer than its own group takes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Event()
        self.lead = False  # woken to lead rather than answered
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set whenever error is not


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
        self._lock = threading.Lock()
        self._queue: list[_Slot[T, R]] = []
        self._busy = False
        self.stats = GroupStats()

    @property
    def waiting(self) -> int:
        """Writes queued for the next transaction."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            leads = not self._busy
            self._busy = True
        if not leads:
            slot.done.wait()
            if not slot.lead:
                return slot.outcome()
            slot.lead = False
            slot.done.clear()
        self._lead(slot)
        return slot.outcome()

    def _lead(self, own: _Slot[T, R]) -> None:
        try:
            while not own.done.is_set():
                with self._lock:
                    group = self._queue[: self.max_group]
                    del self._queue[: self.max_group]
                self._commit(group)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._busy = False

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
        finally:
            for s in group:
                if s.result is None and s.error is None:  # interrupted mid-transaction
                    s.error = RuntimeError("the write's transaction was interrupted")
            self.stats.transactions += 1
            self.stats.writes += len(group)
            self.stats.largest = max(self.stats.largest, len(group))
            for s in group:
                s.done.set()
