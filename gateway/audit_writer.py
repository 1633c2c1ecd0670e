"""Group commit for the audit trail: one write transaction for every request waiting on it.

Each request still waits until *its own* event is committed before it answers (fail closed:
if the batch holding it fails, it gets the error). While one batch is being written, the
events of requests that arrive meanwhile gather and go together in the next one, so under
load the trail costs one lock and one commit per batch instead of per request; under light
load a batch is a single event and nothing waits longer than before.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from gateway.audit import AuditEvent, AuditLog


class AuditWriter:
    """Used from one event loop (the server's); the batch itself is written in a worker thread."""

    def __init__(self, audit: AuditLog, *, max_batch: int = 500) -> None:
        self._audit = audit
        self._max_batch = max_batch
        self._pending: list[tuple[AuditEvent, asyncio.Future[int]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def record(self, event: AuditEvent) -> int:
        """Return the event's sequence number once it is committed; raise if it could not be."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((event, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())
        return await asyncio.shield(future)  # a client hanging up does not cancel the write

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                numbers = await run_in_threadpool(self._audit.record_many, [event for event, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to the requests whose event failed
                if len(batch) == 1:
                    _, future = batch[0]
                    if not future.done():
                        future.set_exception(error)
                    continue
                await self._one_by_one(batch)  # one bad event must not fail its neighbours
                continue
            for (_, future), number in zip(batch, numbers):
                if not future.done():
                    future.set_result(number)

    async def _one_by_one(self, batch: list[tuple[AuditEvent, asyncio.Future[int]]]) -> None:
        for event, future in batch:
            try:
                number = await run_in_threadpool(self._audit.record_many, [event])
            except Exception as error:  # noqa: BLE001 - this request fails closed, alone
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(number[0])
