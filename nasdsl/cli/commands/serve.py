"""`nasdsl serve model.onnx`: classify images over HTTP with dynamic micro-batching (no torch import).

The listening socket is bound here, before uvicorn starts, so that a busy port is a one-line error
and `--port 0` can print the port the system picked. SIGTERM and Ctrl+C stop accepting connections,
let every in-flight request finish, and exit 0; a second one drops the requests still in flight and
exits 128 + its number (`nasdsl.deploy.serve.uvicorn_server`). SIGHUP (a closed terminal) is taken
as SIGTERM, unless the command was started ignoring it (nohup). A signal while the model loads stops
the command at once: nothing is in flight yet. The flags' bounds are checked with every command's
(`dispatch.FLAG_BOUNDS`).
"""
from __future__ import annotations

import argparse
import signal
import socket
import sys

from ...deploy.infer import PROVIDERS, quiet_image_warnings
from ...deploy.serve_images import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE
from ...errors import fail


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="model.onnx", help="a model written by `nasdsl export`")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000; 0 = any free port)")
    p.add_argument("--provider", choices=PROVIDERS, default="auto",
                   help="auto: CUDA when onnxruntime-gpu and a GPU are present, else CPU")
    p.add_argument("--threads", type=int, help="onnxruntime intra-op threads (default: all cores)")
    p.add_argument("--max-batch", type=int, default=16,
                   help="most requests in one onnxruntime run (default 16; 1 = no batching)")
    p.add_argument("--max-wait-ms", type=float, default=5.0,
                   help="how long a batch waits for requests still being received or decoded (default 5)")
    p.add_argument("--max-queue", type=int, default=64,
                   help="most requests in flight at once; more are answered 503 (default 64)")
    p.add_argument("--max-body", type=int, default=10_000_000, help="largest request body in bytes (default 10 MB)")
    p.add_argument("--read-timeout", type=float, default=30.0,
                   help="seconds a client may take to send its body before a 408, and a connection to send "
                        "its request headers before it is closed (default 30)")
    p.add_argument("--min-upload-rate", type=float, default=20_000.0, metavar="BYTES_PER_S",
                   help="a body may take --read-timeout seconds plus one more per this many bytes received, "
                        "so a large image on a slow link arrives (default 20000; 0: --read-timeout is the limit)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"largest image, in pixels, before and after resizing (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--min-side", type=int, default=DEFAULT_MIN_SIDE,
                   help=f"smallest shorter side of an image, in pixels (default {DEFAULT_MIN_SIDE})")
    p.add_argument("--decode-threads", type=int, default=2, help="threads decoding images (default 2)")


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise fail("nasdsl", f"--host {host!r}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise fail("nasdsl", f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    sock.set_inheritable(True)
    return sock


SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _StoppedEarly(Exception):
    """A signal before the server runs."""


def _stop_early(sig: int, frame) -> None:
    raise _StoppedEarly(signal.Signals(sig).name)


def run(args) -> int:
    quiet_image_warnings()
    # a signal the command was started ignoring stays ignored (`nohup nasdsl serve` outlives its terminal)
    handled = [s for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, _stop_early) for s in handled}
    try:
        try:
            server, sock, banner = _prepare(args)
            for s in handled:  # uvicorn installs the same for SIGTERM and SIGINT once it runs; SIGHUP keeps it
                signal.signal(s, server.handle_exit)
        except _StoppedEarly as e:
            print(f"nasdsl serve: stopped ({e}) before serving", flush=True)
            return 0
        print(banner, flush=True)
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if not server.started:
        print("nasdsl serve: the server did not start", file=sys.stderr)
        return 1
    how, status = server.outcome()
    print(f"nasdsl serve: stopped{how}", flush=True)
    return status


def _prepare(args):
    """The model loaded and checked, the socket bound, the app and its server made: (server, socket,
    the line announcing them)."""
    from ...deploy.serve import ServeConfig, create_app, import_stack, uvicorn_server

    import_stack()
    import numpy as np
    from PIL import Image

    from ...deploy.infer import Classifier
    from ...deploy.serve_images import ImageLimits

    clf = Classifier(args.model, provider=args.provider, threads=args.threads or 0)
    batch_dim = clf.input_shape[0]
    max_batch = args.max_batch
    if isinstance(batch_dim, int):  # a graph exported with a fixed batch size
        if batch_dim != 1:
            raise fail(args.model, f"the graph has a fixed batch of {batch_dim}; export it with a dynamic batch")
        max_batch = 1
    size = clf.card.preprocess.image
    clf.predict(np.zeros((1, 3, size, size), np.float32), 1)  # warm up; broken (NaN) weights fail here, not per request
    config = ServeConfig(max_batch=max_batch, max_wait_ms=args.max_wait_ms, max_queue=args.max_queue,
                         max_body=args.max_body, read_timeout=args.read_timeout,
                         min_upload_rate=args.min_upload_rate,
                         decode_threads=args.decode_threads,
                         limits=ImageLimits(max_pixels=args.max_pixels, min_side=args.min_side))
    sock = _bind(args.host, args.port)
    try:
        # The service checks every image's size from its header before decoding (serve_images), so
        # Pillow's own decompression-bomb warning/limit would only duplicate that with another message.
        Image.MAX_IMAGE_PIXELS = None
        app = create_app(clf, args.model, config, clf.quantization)
        host, port = sock.getsockname()[:2]
        server = uvicorn_server(app, args.read_timeout)
    except BaseException:
        sock.close()
        raise
    kind = "int8" if clf.quantization else "float32"
    shown = f"[{host}]" if ":" in host else host
    banner = (f"nasdsl serve: {clf.card.network} ({kind}, {clf.card.classes} classes, {', '.join(clf.providers)}) "
              f"on http://{shown}:{port}  max batch {max_batch}, max wait {args.max_wait_ms:g} ms, "
              f"queue {args.max_queue}")
    return server, sock, banner
