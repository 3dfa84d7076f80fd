"""Dynamic micro-batching for `nasdsl serve`: requests that arrive together share one onnxruntime run.

One asyncio task gathers queued inputs into a batch of at most `max_batch` and runs it in a single
worker thread (onnxruntime releases the GIL and uses its own intra-op threads). After the first
input of a batch it keeps gathering for up to `max_wait` seconds, but only while more admitted
requests are still being received or decoded: a lone client never waits for company that is not
coming. `max_batch=1` turns batching off.
"""
from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

# predict(batch N x 3 x S x S, top) -> per row a list of (index, label, probability), best first
Predict = Callable[[np.ndarray, int], list[list[tuple[int, str, float]]]]


class QueueFull(Exception):
    """More requests are admitted than the queue bound allows."""


@dataclass
class _Item:
    x: np.ndarray
    top: int
    future: asyncio.Future


class Batcher:
    """Admission control plus the batching loop. Use from the event loop thread only."""

    def __init__(self, predict: Predict, executor: Executor, max_batch: int = 16,
                 max_wait: float = 0.005, max_queue: int = 64):
        self.predict = predict
        self.executor = executor
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.in_flight = 0  # admitted requests not yet answered
        self.incoming = 0  # admitted requests not yet queued for inference (reading, decoding)
        self.batch_sizes: Counter[int] = Counter()
        self._items: deque[_Item] = deque()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task | None = None

    def admit(self) -> None:
        """Take a place in the queue, or raise QueueFull; pair with `release()`."""
        if self.in_flight >= self.max_queue:
            raise QueueFull
        self.in_flight += 1
        self.incoming += 1

    def release(self, queued: bool) -> None:
        """The request is answered (`queued`: it went through `submit`)."""
        self.in_flight -= 1
        if not queued:
            self.incoming -= 1
            self._arrived.set()  # a batch waiting for this request stops waiting for it

    async def submit(self, x: np.ndarray, top: int) -> tuple[list[tuple[int, str, float]], int]:
        """Queue one preprocessed image (admitted before); returns its top-k and the batch size."""
        future = asyncio.get_running_loop().create_future()
        self.incoming -= 1
        self._items.append(_Item(x, top, future))
        self._arrived.set()
        return await future

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="nasdsl-batcher")

    async def stop(self) -> None:
        """Stop the loop (call once no request is in flight)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _gather(self) -> list[_Item]:
        loop = asyncio.get_running_loop()
        while not self._items:
            self._arrived.clear()
            await self._arrived.wait()
        batch = [self._items.popleft()]
        deadline = loop.time() + self.max_wait
        while len(batch) < self.max_batch:
            if self._items:
                batch.append(self._items.popleft())
                continue
            remaining = deadline - loop.time()
            if self.incoming <= 0 or remaining <= 0:
                break
            self._arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                break
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [item for item in await self._gather() if not item.future.done()]
            if not batch:
                continue
            xs = np.stack([item.x for item in batch])
            top = max(item.top for item in batch)
            try:
                rows = await loop.run_in_executor(self.executor, self.predict, xs, top)
            except Exception as e:  # noqa: BLE001 (answered per request; the loop goes on)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(e)
                continue
            self.batch_sizes[len(batch)] += 1
            for item, row in zip(batch, rows):
                if not item.future.done():
                    # the ranking is stable, so the top-k of a larger top-K list is the top-k itself
                    item.future.set_result((row[:item.top], len(batch)))
