"""The audit broker: every door hands its events here, and waits until they are on record.

Fail closed: a request's :meth:`AuditBroker.record` returns only once its own event is
committed, and raises if it could not be (the door then refuses to answer). Group commit:
while one batch is being written, the events of requests that arrive meanwhile gather and go
together in the next one, so under load the trail costs one lock and one commit per batch;
under light load a batch is a single event and nothing waits longer than before. Sealing:
every ``checkpoint_seconds`` the head this process just committed is signed into the
checkpoint file (off the request's path; a failure there is logged, the events are safe).
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from gateway.audit.chain import ChainLink
from gateway.audit.events import AuditEvent
from gateway.audit.log import AuditLog

logger = logging.getLogger("gateway.audit")


class AuditBroker:
    """Used from one event loop (the server's); batches are written in a worker thread."""

    def __init__(self, audit: AuditLog, *, max_batch: int = 500, checkpoint_seconds: float = 0.0) -> None:
        self._audit = audit
        self._max_batch = max_batch
        self._checkpoint_seconds = checkpoint_seconds  # 0: no periodic checkpoints from this broker
        self._last_checkpoint = time.monotonic()
        self._sealing: asyncio.Task[None] | None = None
        self._last_link: ChainLink | None = None  # the newest head this broker committed
        self._sealed_link: ChainLink | None = None  # the newest head it signed
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
                links = await run_in_threadpool(self._audit.record_many, [event for event, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to the requests whose event failed
                if len(batch) == 1:
                    _, future = batch[0]
                    if not future.done():
                        future.set_exception(error)
                    continue
                await self._one_by_one(batch)  # one bad event must not fail its neighbours
                continue
            for (_, future), link in zip(batch, links):
                if not future.done():
                    future.set_result(link.seq)
            if links:
                self._maybe_seal(links[-1])

    async def _one_by_one(self, batch: list[tuple[AuditEvent, asyncio.Future[int]]]) -> None:
        for event, future in batch:
            try:
                links = await run_in_threadpool(self._audit.record_many, [event])
            except Exception as error:  # noqa: BLE001 - this request fails closed, alone
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(links[0].seq)
                self._maybe_seal(links[0])

    async def close(self) -> None:
        """On shutdown: wait for pending events, then sign the last head this broker committed
        (with periodic checkpoints on), so a worker's tail never goes unsealed until the next start."""
        if self._draining is not None:
            await self._draining
        if self._sealing is not None:
            await self._sealing
        if self._checkpoint_seconds > 0 and self._last_link is not None and self._last_link != self._sealed_link:
            await self._seal(self._last_link)

    def _maybe_seal(self, link: ChainLink) -> None:
        self._last_link = link
        if self._checkpoint_seconds <= 0 or time.monotonic() - self._last_checkpoint < self._checkpoint_seconds:
            return
        if self._sealing is not None and not self._sealing.done():
            return
        self._last_checkpoint = time.monotonic()
        self._sealing = asyncio.ensure_future(self._seal(link))

    async def _seal(self, link: ChainLink) -> None:
        try:
            await run_in_threadpool(self._audit.checkpoint, kind="periodic", link=link)
            self._sealed_link = link
        except Exception:  # noqa: BLE001 - the events are committed; a missed checkpoint is logged, not fatal
            logger.exception("audit checkpoint at row %s could not be written", link.seq)
