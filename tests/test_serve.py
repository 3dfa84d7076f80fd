"""`nasdsl serve`: a real server in a subprocess (torch blocked), called with a real HTTP client:
classification as `nasdsl infer` does it, the card, batching of concurrent requests, every bad
input answered 4xx in one line, a full queue answered 503, SIGTERM draining in-flight requests (a
second signal forcing the stop), idle connections closed, damaged model cards refused at start."""
from __future__ import annotations

import io
import json
import signal
import socket
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from onnx_helpers import tiny_classifier, write_images
from proc_helpers import run_cli, user_error
from references import require
from serve_helpers import (
    ServeProcess,
    finish_request,
    held_request,
    paced_request,
    read_keep_alive_response,
    read_response,
    release,
    rewrite_card,
    wait_until,
)

from nasdsl.cli.dispatch import main
from nasdsl.deploy.export import export_onnx
from nasdsl.deploy.infer import Classifier
from nasdsl.deploy.labels import default_labels
from nasdsl.deploy.modelcard import ModelCard, default_preprocess

httpx = require("httpx")
require("starlette")
require("uvicorn")

SIZE = 32


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    card = ModelCard("tiny10", "network tiny { }", 10, tuple(default_labels(10)), default_preprocess("cifar", SIZE))
    return export_onnx(tiny_classifier(10, seed=3), card, tmp_path_factory.mktemp("m") / "tiny.onnx",
                       exporter="torchscript", opset=17)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return {name: path.read_bytes() for name, path in write_images(tmp_path_factory.mktemp("img")).items()}


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    s = ServeProcess(model, "--max-batch", "8", "--max-wait-ms", "3000", "--max-body", "300000",
                     "--max-pixels", "1000000", log=tmp_path_factory.mktemp("log") / "serve.log")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _expected(model, data: bytes, top: int):
    (pred,) = Classifier(model, provider="cpu").classify([io.BytesIO(data)], top=top)
    return [{"index": i, "label": label, "probability": p} for i, label, p in pred.top]


def _close(got, want):
    assert [g["index"] for g in got] == [w["index"] for w in want]
    assert [g["label"] for g in got] == [w["label"] for w in want]
    np.testing.assert_allclose([g["probability"] for g in got], [w["probability"] for w in want], atol=1e-6)


def test_classify_raw_and_multipart_as_infer_does(server, client, model, images):
    r = client.post("/v1/classify?top=3", content=images["rgb.jpg"], headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200 and r.headers["x-batch-size"] == "1"
    assert r.json()["model"] == "tiny10"
    _close(r.json()["top"], _expected(model, images["rgb.jpg"], 3))
    r = client.post("/v1/classify", files={"image": ("tall.png", images["tall.png"], "image/png")})
    assert r.status_code == 200
    _close(r.json()["top"], _expected(model, images["tall.png"], 5))  # default top 5
    r = client.post("/v1/classify?top=50", content=images["gray.png"])  # capped at the class count
    assert len(r.json()["top"]) == 10
    assert abs(sum(t["probability"] for t in r.json()["top"]) - 1) < 1e-6


def test_model_card_and_health(server, client, model):
    card = client.get("/v1/model").json()
    assert card["network"] == "tiny10" and card["source"] == "network tiny { }"
    assert card["image"] == SIZE and card["classes"] == 10 and len(card["labels"]) == 10
    assert card["mean"] == pytest.approx([0.4914, 0.4822, 0.4465]) and card["quantization"] is None
    assert card["serving"]["max_batch"] == 8
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["in_flight"] == 0


def test_concurrent_requests_share_one_batch(server, client, model, images):
    names = ["rgb.jpg", "tall.png", "gray.png", "rgba.png"]
    held = [held_request(server.port, images[n]) for n in names]
    assert wait_until(lambda: client.get("/health").json()["in_flight"] == 4)
    for s, n in zip(held, names):
        release(s, images[n])
    answers = [read_response(s) for s in held]
    for (status, headers, body), n in zip(answers, names):
        assert status == 200 and headers["x-batch-size"] == "4" and body["batch"] == 4
        _close(body["top"], _expected(model, images[n], 5))  # batched rows = the files alone
    assert wait_until(lambda: server.log.read_text().count("batch=4") == 4)


def _png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: a few hundred KB that would decode to
    width * height * 3 bytes of RGB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 30, 200)).save(buf, "PNG")
    return buf.getvalue()


BAD = {  # name -> (query, content, content type, status, a word of the reason)
    "not an image": ("", b"hello, world" * 10, "image/jpeg", 415, "not an image of a format this service reads"),
    "empty body": ("", b"", "image/png", 400, "empty"),
    "1x1 pixels": ("", None, "image/png", 422, "1x1"),
    "20000x20000 pixels": ("", None, "image/png", 413, "20000x20000"),
    "extreme aspect ratio": ("", None, "image/png", 413, "aspect"),  # over --max-pixels once resized
    "truncated": ("", None, "image/jpeg", 400, "truncated"),
    "body too large": ("", b"\xff" * 400_000, "image/jpeg", 413, "limit"),
    "top not a number": ("?top=five", None, "image/png", 400, "top"),
    "top zero": ("?top=0", None, "image/png", 400, "top"),
    "top with a sign": ("?top=%2B2", None, "image/png", 400, "digits 0-9"),  # int() took +2, " 3", "1_0"
    "top in other digits": ("?top=%D9%A3", None, "image/png", 400, "digits 0-9"),
    "multipart without a file": ("", None, "multipart", 400, "no file part"),
    "multipart with two files": ("", None, "two files", 400, "2 files; send one image per request"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_get_a_one_line_4xx_and_the_server_stays_up(server, client, images, case):
    query, content, kind, status, word = BAD[case]
    made = {"1x1 pixels": lambda: _png(1, 1), "20000x20000 pixels": lambda: _png_bomb(20000, 20000),
            "extreme aspect ratio": lambda: _png(8, 9000), "truncated": lambda: images["rgb.jpg"][:2000]}
    if case in made:
        content = made[case]()
    elif content is None:
        content = images["gray.png"]
    logged = server.log.read_text().count(f"POST /v1/classify {status} ")  # the module's server: earlier cases
    if kind == "two files":  # the second was ignored, even when it was not an image
        r = client.post("/v1/classify", files=[("a", ("a.png", images["gray.png"], "image/png")),
                                               ("b", ("b.png", b"not an image", "image/png"))])
    elif kind == "multipart":  # a form with a text field and no file
        r = client.post("/v1/classify", content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
                        b"hi\r\n--b--\r\n", headers={"Content-Type": "multipart/form-data; boundary=b"})
    else:
        r = client.post(f"/v1/classify{query}", content=content, headers={"Content-Type": kind})
    assert r.status_code == status, r.text
    reason = r.json()["error"]
    assert word in reason and "\n" not in reason
    ok = client.post("/v1/classify", content=images["rgba.png"])
    assert ok.status_code == 200
    assert wait_until(lambda: server.log.read_text().count(f"POST /v1/classify {status} ") == logged + 1)


def _encoded(fmt: str) -> bytes:
    from PIL import Image

    img = Image.new("L" if fmt == "PGM" else "RGB", (64, 48), 90)
    buf = io.BytesIO()
    img.save(buf, "PPM" if fmt == "PGM" else fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP", "PPM", "PGM", "ICO"])
def test_common_raster_formats_are_decoded(server, client, model, fmt):
    r = client.post("/v1/classify", content=_encoded(fmt))
    assert r.status_code == 200, r.text
    _close(r.json()["top"], _expected(model, _encoded(fmt), 5))


@pytest.mark.parametrize("fmt", ["EPS", "PCX", "TGA"])  # EPS would run Ghostscript where installed
def test_other_formats_are_refused_naming_the_ones_read(server, client, fmt):
    r = client.post("/v1/classify", content=_encoded(fmt))
    assert r.status_code == 415 and r.json()["error"] == \
        "not an image of a format this service reads (PNG, JPEG, GIF, BMP, TIFF, WEBP, PPM, ICO)"


def _ico_with_a_larger_entry() -> bytes:
    """An ICO whose directory says 16x16 for a 64x64 PNG entry (Pillow decodes 64x64, and warned)."""
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(png, "PNG")
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png.getvalue()), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + png.getvalue()


def test_pillows_warning_on_an_ico_entry_of_another_size_is_not_in_the_log(server, client, model, tmp_path):
    """Pillow's "Image was not the expected size" reached serve's log and infer's stderr: the image is
    classified at its real size, which the pixel limits hold to, so the warning tells nobody anything."""
    data = _ico_with_a_larger_entry()
    r = client.post("/v1/classify?top=1", content=data)
    assert r.status_code == 200, r.text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # this process's own Pillow
        _close(r.json()["top"], _expected(model, data, 1))
    assert "expected size" not in server.log.read_text()  # (written before the response was)
    (tmp_path / "liar.ico").write_bytes(data)
    done = run_cli("infer", str(model), str(tmp_path / "liar.ico"))
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_request_log_escapes_the_path(server, client):
    forged = "/x%0A2026-01-01T00:00:00Z%20GET%20/v1/model%20200%201.0%20ms"
    assert client.get(forged).status_code == 404
    assert client.get("/a%1b[31mred%7F%C2%85%E2%80%A8b%25").status_code == 404
    assert client.get("/bytes%FF%c3not-utf-8/%C3%A9t%C3%A9").status_code == 404  # they were U+FFFD
    wanted = (" GET /x%0A2026-01-01T00:00:00Z%20GET%20/v1/model%20200%201.0%20ms 404 ",
              " GET /a%1B[31mred%7F%C2%85%E2%80%A8b%25 404 ", " GET /bytes%FF%C3not-utf-8/été 404 ")
    # (a line is written as its response ends, so an earlier test's may come after these requests)
    assert wait_until(lambda: all(any(w in line for line in server.log.read_text().splitlines()) for w in wanted))
    text = server.log.read_text()
    assert "\x1b" not in text and len(text.split("\n")) == len(text.splitlines()) + 1


def _closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_idle_connections_are_closed_after_the_header_deadline(model, tmp_path):
    s = ServeProcess(model, "--read-timeout", "1", log=tmp_path / "serve.log")
    try:
        start = time.monotonic()
        silent = socket.create_connection(("127.0.0.1", s.port), timeout=4)
        half = socket.create_connection(("127.0.0.1", s.port), timeout=4)
        half.sendall(b"GET /health HTTP/1.1\r\nHost: te")  # stops in the middle of its headers
        answered = socket.create_connection(("127.0.0.1", s.port), timeout=4)
        answered.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert read_keep_alive_response(answered) == 200
        answered.sendall(b"GET /health HTTP/1.1\r\n")  # then stalls in its next request's headers
        # uvicorn's own keep-alive timeout (5 s) would not close any of them: data arrived, or no response yet
        assert [_closed_by_server(c) for c in (silent, half, answered)] == [True, True, True]
        assert time.monotonic() - start < 3.5
        with httpx.Client(base_url=s.url, timeout=30) as client:  # an ordinary keep-alive client
            assert client.get("/health").status_code == 200
            time.sleep(0.3)
            assert client.get("/health").status_code == 200
            time.sleep(2.5)  # its idle connection is closed meanwhile (at 1 s); the next request reconnects
            assert client.get("/health").status_code == 200
    finally:
        s.stop()


def test_a_full_queue_is_answered_503_with_retry_after(model, images, tmp_path):
    s = ServeProcess(model, "--max-queue", "2", log=tmp_path / "serve.log")
    try:
        body = images["gray.png"]
        held = [held_request(s.port, body) for _ in range(2)]
        with httpx.Client(base_url=s.url, timeout=30) as client:
            assert wait_until(lambda: client.get("/health").json()["in_flight"] == 2)
            r = client.post("/v1/classify", content=body)
            assert r.status_code == 503 and r.headers["retry-after"] == "1" and "queue full" in r.json()["error"]
        assert [finish_request(h, body)[0] for h in held] == [200, 200]
    finally:
        s.stop()


def test_a_stalled_body_is_answered_408_and_frees_its_place(model, images, tmp_path):
    s = ServeProcess(model, "--max-queue", "1", "--read-timeout", "0.5", log=tmp_path / "serve.log")
    try:
        held = held_request(s.port, images["gray.png"], hold=10)  # never finishes its body
        status, _, answer = read_response(held)
        assert status == 408 and "0.5 s" in answer["error"]
        r = httpx.post(s.url + "/v1/classify", content=images["gray.png"], timeout=30)
        assert r.status_code == 200  # the one place in the queue is free again
    finally:
        s.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_drains_in_flight_requests_and_exits_0(model, images, tmp_path, sig):
    """SIGHUP too: a closed terminal killed the server at once, dropping what was in flight, with no line."""
    s = ServeProcess(model, log=tmp_path / "serve.log")
    try:
        body = images["tall.png"]
        held = held_request(s.port, body, hold=100)
        with httpx.Client(base_url=s.url, timeout=30) as client:
            assert wait_until(lambda: client.get("/health").json()["in_flight"] == 1)
        s.proc.send_signal(sig)
        assert wait_until(lambda: not _accepts(s.port))  # no new connections while draining
        status, _, answer = finish_request(held, body, hold=100)
        assert status == 200 and len(answer["top"]) == 5
        rc, out = s.wait()
        assert rc == 0 and f"stopped ({sig.name}, drained)" in out
    finally:
        s.stop()


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_forces_the_stop_without_a_traceback(model, images, tmp_path, second):
    s = ServeProcess(model, log=tmp_path / "serve.log")
    held = held_request(s.port, images["tall.png"], hold=100)  # a stalled upload
    try:
        with httpx.Client(base_url=s.url, timeout=30) as client:
            assert wait_until(lambda: client.get("/health").json()["in_flight"] == 1)
        s.terminate()
        assert wait_until(lambda: not _accepts(s.port))  # draining
        start = time.monotonic()
        s.proc.send_signal(second)
        rc, out = s.wait(timeout=10)
        assert time.monotonic() - start < 2.5
        assert rc == 128 + second
        assert out.splitlines()[-1] == (f"nasdsl serve: stopped (SIGTERM, then {second.name}: forced, "
                                        "1 request in flight dropped)")
        err = s.log.read_text()
        assert "Traceback" not in err and "Error" not in err, err
        assert _closed_by_server(held)
    finally:
        held.close()
        s.stop()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("argv, message", [
    (["missing.onnx"], "no such model file"),
    (["{bad}"], "not a loadable ONNX model"),
    (["{model}", "--max-batch", "0"], "--max-batch must be at least 1"),
    (["{model}", "--port", "70000"], "nasdsl serve: error: --port must be at most 65535"),
    (["{model}", "--max-wait-ms", "inf"], "--max-wait-ms must be a finite number"),  # held a lone request forever
    (["{model}", "--min-upload-rate", "-1"], "--min-upload-rate must be at least 0, got -1"),
    (["{model}", "--host", ""], "--host: an empty argument"),
    (["{model}", "--port", "{busy}"], "cannot listen on"),
])
def test_bad_flags_and_models_exit_2_in_one_line(model, tmp_path, capsys, argv, message):
    import socket

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        args = [a.format(model=model, bad=bad, busy=busy.getsockname()[1]) for a in argv]
        assert main(["serve", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


DAMAGED = {  # card keys changed -> a word of the error
    "more classes than the graph outputs": ({"classes": "12", "labels": json.dumps(default_labels(12))}, "12 classes"),
    "fewer classes than the graph outputs": ({"classes": "4", "labels": json.dumps(default_labels(4))}, "4 classes"),
    "NaN mean": ({"mean": "[NaN, 0.5, 0.5]"}, "finite"),
    "infinite std": ({"std": "[0.5, Infinity, 0.5]"}, "finite"),
    "non-finite quantization record": ({"quantization": '{"mode": "int8", "scale": NaN}'}, "quantization"),
    "overflowing quantization record": ({"quantization": '{"mode": "int8", "scale": 1e999}'}, "quantization"),
    "quantization record not JSON": ({"quantization": '{"mode": '}, "quantization"),
    "absurd resize": ({"resize": "100000"}, "resize"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_damaged_cards_are_refused_before_listening(model, images, tmp_path, capsys, case):
    changes, word = DAMAGED[case]
    damaged = rewrite_card(model, tmp_path / "damaged.onnx", changes)
    r = run_cli("serve", str(damaged), "--port", "0", timeout=60)
    err = user_error(r, word, one_line=True)
    assert err.startswith(f"{damaged}: error: ") and r.stdout == ""
    image = tmp_path / "gray.png"
    image.write_bytes(images["gray.png"])
    assert main(["infer", str(damaged), str(image)]) == 2  # the same check for `infer`
    assert capsys.readouterr().err == err


def test_a_slow_body_has_a_second_more_per_min_upload_rate_bytes(model, images, tmp_path):
    """--read-timeout 1 and --min-upload-rate 5000: a body may take 1 s plus 1 s per 5000 bytes in.
    One sent at 6.7 kB/s arrives (in about 1.7 s; a second of slack at every chunk); one trickling
    in at 400 B/s is answered 408 once it falls behind (at about 1.1 s); with --min-upload-rate 0 the
    first one is 408 at 1 s."""
    body = images["tall.png"]
    assert len(body) > 10_000
    s = ServeProcess(model, "--read-timeout", "1", "--min-upload-rate", "5000", log=tmp_path / "serve.log")
    try:
        status, answer, took = paced_request(s.port, body, chunk=1000, interval=0.15)
        assert status == 200 and answer["top"] and took > 1, (status, answer, took)
        status, answer, took = paced_request(s.port, body, chunk=100, interval=0.25)
        assert status == 408 and took < 10, (status, answer, took)
        assert answer["error"].startswith("body not received in time (") and f"of {len(body)} bytes in" in answer["error"]
        assert answer["error"].endswith("a body may take 1 s plus 1 s per 5000 bytes)")
    finally:
        s.stop()
    s = ServeProcess(model, "--read-timeout", "1", "--min-upload-rate", "0", log=tmp_path / "serve0.log")
    try:
        status, answer, _ = paced_request(s.port, body, chunk=1000, interval=0.15)
        assert (status, answer) == (408, {"error": "body not received within 1 s"})
    finally:
        s.stop()


def test_a_request_that_leaves_unqueued_does_not_hold_the_batch(model, images, tmp_path):
    """A batch waits --max-wait-ms for requests still being received; one that is refused (here a
    408 for a stalled body) must stop that wait: the request beside it waited the whole 20 s."""
    s = ServeProcess(model, "--max-wait-ms", "20000", "--read-timeout", "1", log=tmp_path / "serve.log")
    try:
        held = held_request(s.port, images["gray.png"], hold=100)
        with httpx.Client(base_url=s.url, timeout=30) as client:
            assert wait_until(lambda: client.get("/health").json()["in_flight"] == 1)
            start = time.monotonic()
            r = client.post("/v1/classify", content=images["rgba.png"])
            assert r.status_code == 200 and time.monotonic() - start < 6, time.monotonic() - start
        assert read_response(held)[0] == 408
    finally:
        s.stop()


def _with_graph(model, out, scale: float):
    """The exported model's card on a small graph: logits = exp(scale * (per-channel means) @ W), finite
    for an all-zero input, inf for most images when `scale` is large (a model broken for real inputs)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from nasdsl.deploy.modelcard import save_model

    proto = onnx.load(str(model))
    w = numpy_helper.from_array((np.random.default_rng(0).standard_normal((3, 10)) * scale).astype(np.float32), "W")
    axes = numpy_helper.from_array(np.array([2, 3], np.int64), "axes")
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["r"], keepdims=0),
             helper.make_node("MatMul", ["r", "W"], ["z"]), helper.make_node("Exp", ["z"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], [w, axes])
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])  # ReduceMean's axes as input
    made.ir_version = 9
    return save_model(made, {p.key: p.value for p in proto.metadata_props}, proto.doc_string, out)


def test_a_model_broken_for_every_input_is_refused_at_start(model, tmp_path):
    broken = _with_graph(model, tmp_path / "nan.onnx", float("nan"))
    r = run_cli("serve", str(broken), "--port", "0", timeout=60)  # a subprocess: a regression serves forever
    user_error(r, "the model's outputs are not finite", one_line=True)


def test_a_model_broken_for_an_image_answers_500_in_one_line_without_a_traceback(model, images, tmp_path):
    broken = _with_graph(model, tmp_path / "inf.onnx", 1e6)  # finite on the warm-up's zeros only
    s = ServeProcess(broken, log=tmp_path / "serve.log")
    try:
        r = httpx.post(s.url + "/v1/classify", content=images["rgba.png"], timeout=30)
        assert r.status_code == 500 and "the model's outputs are not finite" in r.json()["error"], r.text
        assert httpx.get(s.url + "/health", timeout=30).status_code == 200
        s.terminate()
        assert s.wait()[0] == 0
        log = s.log.read_text()
        assert "Traceback" not in log and "POST /v1/classify 500 " in log, log
    finally:
        s.stop()


def test_sighup_stays_ignored_under_nohup(model, tmp_path):
    s = ServeProcess(model, log=tmp_path / "serve.log", ignore=(signal.SIGHUP,))
    try:
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert s.proc.poll() is None and httpx.get(s.url + "/health", timeout=30).status_code == 200
    finally:
        s.stop()


def test_a_signal_while_the_model_loads_stops_at_once(model, monkeypatch, capsys):
    """Before serving, nothing is in flight: the signal ends the command with its line, exit 0
    (SIGTERM killed it with no output, SIGINT printed "interrupted" and exit 130)."""
    import os

    from nasdsl.cli.commands import serve as serve_cmd

    def loading(args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("the signal did not stop the start")

    monkeypatch.setattr(serve_cmd, "_prepare", loading)
    before = {s: signal.getsignal(s) for s in serve_cmd.SIGNALS}
    assert main(["serve", str(model), "--port", "0"]) == 0
    assert capsys.readouterr().out.strip() == "nasdsl serve: stopped (SIGTERM) before serving"
    assert {s: signal.getsignal(s) for s in serve_cmd.SIGNALS} == before  # the handlers given back
