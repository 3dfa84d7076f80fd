"""A real `nasdsl serve` in a subprocess (torch made unimportable), raw-socket requests whose body
is held back, so that tests can line up concurrent requests deterministically, and exported models
with a damaged card."""
from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from proc_helpers import as_in_a_terminal, child_env

# `nasdsl serve` with torch blocked: the service must never import it.
RUNNER = """
import sys
sys.modules["torch"] = None
from nasdsl.cli.dispatch import main
sys.exit(main(sys.argv[1:]))
"""


class ServeProcess:
    """`nasdsl serve MODEL --port 0 FLAGS...`; stderr (the request log) goes to `log`."""

    def __init__(self, model: str | Path, *flags: str, log: Path, timeout: float = 60.0,
                 ignore: tuple[signal.Signals, ...] = ()):
        """`ignore`: signals the server is started ignoring, as `nohup` starts it (the others at their
        defaults, as in a terminal, even when the tests run under nohup)."""
        self.log = log
        self._err = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-c", RUNNER, "serve", str(model), "--port", "0", *flags],
                                     stdout=subprocess.PIPE, stderr=self._err, text=True, env=child_env(),
                                     preexec_fn=lambda: as_in_a_terminal(ignore))
        self.banner = self._line(timeout)
        if "http://" not in self.banner:
            self.stop()
            raise RuntimeError(f"server did not start: {self.banner!r} {log.read_text()}")
        self.port = int(self.banner.split("http://")[1].split()[0].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else ""

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        self._err.close()
        return self.proc.returncode, out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._err.close()


def held_request(port: int, body: bytes, path: str = "/v1/classify", content_type: str = "image/png",
                 hold: int = 1) -> socket.socket:
    """Open a connection and send a POST whose last `hold` body bytes are held back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    s.sendall(head.encode() + body[:len(body) - hold])
    return s


def release(s: socket.socket, body: bytes, hold: int = 1) -> None:
    """Send a held request's last bytes."""
    s.sendall(body[len(body) - hold:])


def read_response(s: socket.socket) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of the response on a `Connection: close` socket."""
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(payload)


def finish_request(s: socket.socket, body: bytes, hold: int = 1) -> tuple[int, dict, dict]:
    """Send the held-back bytes and read the response."""
    release(s, body, hold)
    return read_response(s)


def paced_request(port: int, body: bytes, chunk: int, interval: float) -> tuple[int, dict, float]:
    """POST `body` as a raw image, `chunk` bytes every `interval` seconds, stopping early when the
    server answers; (status, JSON body, seconds from the first body byte to the answer)."""
    s = held_request(port, body, hold=len(body))  # the headers alone
    start = time.monotonic()
    for i in range(0, len(body), chunk):
        if i and select.select([s], [], [], interval)[0]:  # answered before the body was all sent
            break
        s.sendall(body[i:i + chunk])
    status, _, answer = read_response(s)
    return status, answer, time.monotonic() - start


def read_keep_alive_response(s: socket.socket) -> int:
    """Read one whole response (Content-Length framed) from a keep-alive socket; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += s.recv(65536)
    return int(head.split()[1])


def rewrite_card(model: str | Path, out: Path, changes: dict[str, str]) -> Path:
    """A copy of the exported `model` whose `nasdsl.` metadata has `changes` (keys without the prefix)."""
    import onnx

    from nasdsl.deploy.modelcard import PREFIX, save_model

    proto = onnx.load(str(model))
    props = {p.key: p.value for p in proto.metadata_props} | {PREFIX + k: v for k, v in changes.items()}
    return save_model(proto, props, proto.doc_string, out)


def wait_until(predicate, timeout: float = 20.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False
