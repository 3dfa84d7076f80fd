"""`nasdsl serve`: an exported model behind HTTP (Starlette on uvicorn), torch-free like `infer`.

    POST /v1/classify[?top=K]   an image as the raw body or as a multipart file part
                                -> {"top": [{"index", "label", "probability"}, ...], ...}
    GET  /v1/model              the model card (network, .nas source, preprocessing, labels, quantization)
    GET  /health                liveness and queue state

Requests are decoded in a thread pool (off the event loop), batched by `serve_batch.Batcher` and
answered with the batch size in the `X-Batch-Size` header. Every refusal is JSON
`{"error": "<one line>"}` with a 4xx status; a full queue is 503 with Retry-After. One log line per
request goes to stderr: time, method, path (unprintable characters percent-encoded), status,
milliseconds (and the batch size).

`uvicorn_server` runs the app with two additions to uvicorn (which times out only keep-alive
connections silent after a response, and forces an exit only on a second SIGINT, with a traceback
per cancelled request): a connection that completes no request headers within the read timeout of
opening or of its last response is closed, and a second SIGTERM or SIGINT drops the requests still
in flight and stops at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from ..errors import NasError
from .infer import Classifier
from .serve_batch import Batcher, QueueFull
from .serve_images import ImageLimits, RequestError, decode, one_line

DEFAULT_TOP = 5
RETRY_AFTER_S = 1
_MISSING = ("serving needs Starlette, uvicorn and python-multipart; install them with "
            "`pip install 'nasdsl[cpu,serve]'` (or `[gpu,serve]`)")


@dataclass
class ServeConfig:
    """The service's knobs (the CLI flags)."""

    max_batch: int = 16
    max_wait_ms: float = 5.0
    max_queue: int = 64
    max_body: int = 10_000_000
    read_timeout: float = 30.0  # seconds to receive a body (a stalled client must not hold its place),
    min_upload_rate: float = 20_000.0  # plus one more per this many bytes received (0: none more)
    decode_threads: int = 2
    limits: ImageLimits = field(default_factory=ImageLimits)


def card_json(clf: Classifier, model_path: str | Path, quantization: dict | None) -> dict:
    """What GET /v1/model answers: the model card as JSON."""
    card, pre = clf.card, clf.card.preprocess
    path = Path(model_path)
    return {
        "file": path.name,
        "size_bytes": path.stat().st_size,
        "network": card.network,
        "source": card.source,
        "image": pre.image,
        "resize": pre.resize,
        "interpolation": pre.interpolation,
        "mean": list(pre.mean),
        "std": list(pre.std),
        "classes": card.classes,
        "labels": list(card.labels),
        "background_class": card.background_class,
        "exporter": card.exporter,
        "weights": getattr(card, "weights", ""),  # where the weights came from (newer cards)
        "quantization": quantization,
        "providers": clf.providers,
    }


def create_app(clf: Classifier, model_path: str | Path, config: ServeConfig, quantization: dict | None = None,
               log=sys.stderr):
    """The ASGI application serving `clf` (an onnxruntime Classifier)."""
    from starlette.applications import Starlette
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    info = card_json(clf, model_path, quantization)
    info["serving"] = {"max_batch": config.max_batch, "max_wait_ms": config.max_wait_ms,
                       "max_queue": config.max_queue, "max_body": config.max_body,
                       "read_timeout_s": config.read_timeout, "min_upload_rate": config.min_upload_rate,
                       "max_pixels": config.limits.max_pixels, "min_side": config.limits.min_side}
    pre = clf.card.preprocess
    decoders = ThreadPoolExecutor(max(1, config.decode_threads), thread_name_prefix="nasdsl-decode")
    runner = ThreadPoolExecutor(1, thread_name_prefix="nasdsl-ort")
    batcher = Batcher(clf.predict, runner, max_batch=config.max_batch, max_wait=config.max_wait_ms / 1000,
                      max_queue=config.max_queue)

    def error(status: int, reason: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": reason}, status_code=status, headers=headers)

    def parse_top(request: Request) -> int:
        raw = request.query_params.get("top")
        if raw is None:
            return min(DEFAULT_TOP, clf.card.classes)
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # int() takes "+2", " 3", "1_0", "٣"
            raise RequestError(400, f"top must be a whole number (digits 0-9), got {raw[:20]!r}")
        top = int(raw)
        if top < 1:
            raise RequestError(400, f"top must be at least 1, got {top}")
        return min(top, clf.card.classes)

    async def read_body(request: Request) -> bytes:
        """The body, within `max_body` and in time: `read_timeout` seconds, plus one more for every
        `min_upload_rate` bytes received (a large image on a slow link arrives; a body that stalls, or
        trickles in slower than that, is answered 408 and frees its place)."""
        limit, timeout, rate = config.max_body, config.read_timeout, config.min_upload_rate
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise RequestError(400, "bad Content-Length header")
            if int(declared) > limit:
                raise RequestError(413, f"body of {int(declared)} bytes is above the limit of {limit} bytes")
        chunks, size = [], 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            async with asyncio.timeout(timeout) as deadline:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise RequestError(413, f"body is above the limit of {limit} bytes")
                    chunks.append(chunk)
                    if rate:
                        deadline.reschedule(start + timeout + size / rate)
        except TimeoutError:
            if not rate:
                raise RequestError(408, f"body not received within {timeout:g} s") from None
            took = loop.time() - start
            got = f"{size} of {int(declared)}" if declared is not None else str(size)
            raise RequestError(408, f"body not received in time ({got} bytes in {took:.1f} s; a body may take "
                                    f"{timeout:g} s plus 1 s per {rate:g} bytes)") from None
        return b"".join(chunks)

    async def file_part(request: Request, body: bytes) -> bytes:
        """The one file of a multipart/form-data body already read (and size-checked)."""
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=4, max_fields=16,
                                                              max_part_size=config.max_body)
        except HTTPException as e:
            raise RequestError(400, f"bad multipart body: {one_line(e.detail)}") from None
        except Exception as e:  # noqa: BLE001 (python-multipart's parse errors)
            raise RequestError(400, f"bad multipart body: {one_line(e) or e.__class__.__name__}") from None
        try:
            uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            if not uploads:
                raise RequestError(400, "multipart body has no file part (send the image as a file field)")
            if len(uploads) > 1:
                raise RequestError(400, f"multipart body has {len(uploads)} files; send one image per request")
            return await uploads[0].read()
        finally:
            await form.close()

    async def classify(request: Request) -> JSONResponse:
        start = time.perf_counter()
        try:
            top = parse_top(request)
            batcher.admit()
        except RequestError as e:
            return error(e.status, e.reason)
        except QueueFull:
            return error(503, f"queue full ({config.max_queue} requests in flight); retry later",
                         {"Retry-After": str(RETRY_AFTER_S)})
        queued = False
        try:
            try:
                body = await read_body(request)
            except ClientDisconnect:
                raise RequestError(400, "the client disconnected before sending its body") from None
            if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
                body = await file_part(request, body)
            x = await asyncio.get_running_loop().run_in_executor(decoders, decode, body, pre, config.limits)
            queued = True
            best, batch = await batcher.submit(x, top)
        except RequestError as e:
            return error(e.status, e.reason)
        except NasError as e:  # the model itself (outputs not finite): its message, not a traceback
            return error(500, one_line(e.diagnostics[0].message))
        finally:
            batcher.release(queued)
        request.state.batch = batch
        return JSONResponse({
            "model": clf.card.network,
            "top": [{"index": i, "label": label, "probability": p} for i, label, p in best],
            "batch": batch,
            "ms": round((time.perf_counter() - start) * 1000, 2),
        }, headers={"X-Batch-Size": str(batch)})

    async def model(request: Request) -> JSONResponse:
        return JSONResponse(info)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": clf.card.network, "in_flight": batcher.in_flight,
                             "max_queue": config.max_queue,
                             "batches": {str(k): v for k, v in sorted(batcher.batch_sizes.items())}})

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, one_line(exc.detail) or "error", getattr(exc, "headers", None))

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return error(500, f"internal error ({exc.__class__.__name__}: {one_line(exc)})")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        try:
            yield
        finally:  # uvicorn has waited for every in-flight request by now
            await batcher.stop()
            runner.shutdown(wait=True)
            decoders.shutdown(wait=True)

    routes = [Route("/v1/classify", classify, methods=["POST"]), Route("/v1/model", model, methods=["GET"]),
              Route("/health", health, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.batcher = batcher
    return RequestLog(app, log)


def log_path(raw: bytes) -> str:
    """The request path (as sent, percent-encoded) decoded, as one word of a log line: `%`, spaces and
    every character that is not printable (control characters, line separators, escape sequences)
    percent-encoded as UTF-8, and bytes that are not UTF-8 as they came (they were U+FFFD)."""
    def word(c: str) -> str:
        if "\udc80" <= c <= "\udcff":  # a byte that is not UTF-8 (surrogateescape)
            return f"%{ord(c) - 0xDC00:02X}"
        return c if c.isprintable() and c not in " %" else quote(c, safe="")
    return "".join(map(word, unquote_to_bytes(raw).decode("utf-8", "surrogateescape")))


class RequestLog:
    """ASGI middleware: one line per HTTP request to `out`, written when the response is complete:
    `2026-12-02T14:30:00Z POST /v1/classify 200 12.3 ms batch=4` (`dropped` for the status of a request
    that a forced stop cancelled)."""

    def __init__(self, app, out):
        self.app = app
        self.out = out

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def logged_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except asyncio.CancelledError:
            status = "dropped"
            raise
        finally:
            ms = (time.perf_counter() - start) * 1000
            batch = scope.get("state", {}).get("batch")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            extra = f" batch={batch}" if batch else ""
            print(f"{stamp} {scope['method']} {log_path(scope['raw_path'])} {status} {ms:.1f} ms{extra}",
                  file=self.out, flush=True)


class HeaderDeadline:
    """Mixed into uvicorn's HTTP protocol: closes a connection that has no request in progress
    `deadline` seconds after it opened or after its last response (no request completed its headers
    in time). A request whose headers are in is left to the body timeout of `create_app`."""

    deadline = 30.0
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self.deadline, self._expire)  # type: ignore[attr-defined]

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        cycle = self.cycle  # type: ignore[attr-defined]
        if cycle is None or cycle.response_complete:  # uvicorn's own test for an idle connection
            self.transport.close()  # type: ignore[attr-defined]


def _not_cancelled(record: logging.LogRecord) -> bool:
    """A log filter: drop uvicorn's reports of the requests and lifespan a forced stop cancelled."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


class SecondSignalStop:
    """Mixed into uvicorn.Server: the first SIGTERM/SIGINT drains in-flight requests, a second one of
    either drops them and stops at once. `signals` lists those received; none is re-raised."""

    def __init__(self, config):
        super().__init__(config)  # type: ignore[call-arg]
        self.signals: list[int] = []
        self.dropped = 0  # requests in flight that a forced stop cancelled

    def handle_exit(self, sig: int, frame) -> None:
        self.signals.append(sig)
        if self.should_exit and not self.force_exit:
            self.force_exit = True
            with contextlib.suppress(RuntimeError):  # no event loop yet: nothing is in flight
                asyncio.get_running_loop().call_soon_threadsafe(self._drop_in_flight)
        self.should_exit = True

    def _drop_in_flight(self) -> None:
        logging.getLogger("uvicorn.error").addFilter(_not_cancelled)
        for connection in list(self.server_state.connections):
            connection.transport.abort()
        self.dropped = len(self.server_state.tasks)
        for task in self.server_state.tasks:
            task.cancel()

    async def shutdown(self, sockets=None) -> None:
        await super().shutdown(sockets)  # type: ignore[misc]
        if self.force_exit:  # uvicorn skips the app's shutdown then: run it once the dropped requests end
            await asyncio.gather(*self.server_state.tasks, return_exceptions=True)
            await self.lifespan.shutdown()

    def outcome(self) -> tuple[str, int]:
        """How the server stopped, for its last line (` (SIGTERM, drained)`), and the exit status."""
        if not self.signals:
            return "", 0
        first = signal.Signals(self.signals[0]).name
        if not self.force_exit:
            return f" ({first}, drained)", 0
        second = signal.Signals(self.signals[1])
        plural = "" if self.dropped == 1 else "s"
        dropped = f", {self.dropped} request{plural} in flight dropped" if self.dropped else ""
        return f" ({first}, then {second.name}: forced{dropped})", 128 + second


def uvicorn_server(app, read_timeout: float):
    """A uvicorn server for `app` with `HeaderDeadline` (of `read_timeout` seconds) and
    `SecondSignalStop`; run it with `.run(sockets=[...])`, then ask `.outcome()`."""
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    protocol = type("HeaderDeadlineProtocol", (HeaderDeadline, AutoHTTPProtocol), {"deadline": read_timeout})
    server = type("Server", (SecondSignalStop, uvicorn.Server), {})
    return server(uvicorn.Config(app, http=protocol, log_level="warning", access_log=False, lifespan="on",
                                 timeout_graceful_shutdown=None, server_header=False))


def import_stack() -> None:
    """Raise a NasError naming the `[serve]` extra when Starlette, uvicorn or python-multipart is missing."""
    import importlib.util

    from ..errors import fail

    for names in (("starlette",), ("uvicorn",), ("python_multipart", "multipart")):
        if not any(importlib.util.find_spec(n) for n in names):
            raise fail("nasdsl", _MISSING)
