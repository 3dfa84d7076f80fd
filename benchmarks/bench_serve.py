"""`nasdsl serve` under load, and fp32 vs int8, in one run.

Usage: python benchmarks/bench_serve.py [--requests 200] [--seconds 30] [--clients 1,8,32] [--rounds 10]

1. NASNet-A Mobile with weights in Cadene's layout (random, BN statistics moved off their defaults,
   `convert-weights --from cadene`), exported with `nasdsl export`; an int8 copy calibrated on 32
   digits images (speed does not depend on the weights).
2. Ceiling: in-process onnxruntime on the same JPEG files as `nasdsl infer` runs them (decode +
   preprocess + batch of 16), images/s.
3. A real `nasdsl serve` subprocess on loopback with batching off (--max-batch 1) and on
   (--max-batch 16 --max-wait-ms 5); C concurrent keep-alive clients (1, 8, 32) in a closed loop,
   each configuration bounded by --requests and --seconds: requests/s, p50/p99 latency, batch sizes.
4. Overload: --max-queue 4 against 32 clients: refused requests must be 503 with Retry-After.
5. fp32 vs int8 in-process latency at batch 1 and 16 (median of --rounds, round-robin) and size on disk.
6. int8 agreement where it means something: a small network trained on digits for 3 epochs,
   float vs int8 on 256 held-out digits.

Exits 1 when a valid request fails (any status but 200, or a connection error), when the overload
case is not answered with 503s (with Retry-After) alone, when a server does not exit 0 on SIGTERM,
or when the server's best fp32 requests/s at the most clients (batching on or off) is below
--target (0.75) of the in-process ceiling: what HTTP, the queue and the client sharing the cores
may cost.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def quiet(fn, *args, **kwargs):
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        return fn(*args, **kwargs)


# -- models ----------------------------------------------------------------------------------------
def mobile_models(folder: Path) -> tuple[Path, Path]:
    """NASNet-A Mobile from Cadene's layout -> float .onnx, and its int8 copy."""
    import pretrainedmodels
    import torch

    from nasdsl.cli.commands.calibration import dataset_images
    from nasdsl.cli.dispatch import main as nasdsl
    from nasdsl.deploy.modelcard import default_preprocess
    from nasdsl.deploy.quantize import quantize_int8
    from nasdsl.testing import randomize_bn

    torch.manual_seed(0)
    ref = randomize_bn(pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None), seed=3,
                       classifier_gain=10.0).eval()
    torch.save(ref.state_dict(), folder / "cadene.pth")
    ours, fp32, int8 = folder / "mobile.pt", folder / "mobile.onnx", folder / "mobile.int8.onnx"
    t = time.perf_counter()
    rc = quiet(nasdsl, ["convert-weights", "--from", "cadene", str(folder / "cadene.pth"), "--network",
                        "nasnet_a_mobile", "-o", str(ours)])
    rc = rc or quiet(nasdsl, ["export", "nasnet_a_mobile", "--weights", str(ours), "-o", str(fp32)])
    if rc:
        raise SystemExit("convert-weights/export failed")
    log(f"  nasnet_a_mobile: convert + export {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    calib, _, _ = dataset_images("digits", default_preprocess("imagenet", 224), 32)
    quiet(quantize_int8, fp32, int8, calib, dataset="digits")
    log(f"  nasnet_a_mobile: int8 quantization (32 calibration images) {time.perf_counter() - t:.0f} s")
    return fp32, int8


def small_agreement(folder: Path) -> tuple[str, object]:
    """A small network trained on digits (3 epochs), float vs int8 on 256 held-out digits."""
    import torch

    from nasdsl.cli.commands.calibration import dataset_images
    from nasdsl.deploy.export import export_onnx, prepare
    from nasdsl.deploy.quantize import compare, quantize_int8
    from nasdsl.testing import SMALL_NAS
    from nasdsl_search.trainer import TrainConfig, train

    src = folder / "small.nas"
    src.write_text(SMALL_NAS)
    module, card = prepare(str(src), image=16, classes=10)
    x_tr, y_tr, _ = dataset_images("digits", card.preprocess, 1000, split="train")
    x_va, y_va, _ = dataset_images("digits", card.preprocess, 256, split="val")
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a tiny network: more threads only fight over the shared cores
    module.train()
    result = quiet(train, module, x_tr, y_tr, x_va, y_va, TrainConfig(epochs=3, batch_size=32), seed=0)
    module.eval()
    fp32 = quiet(export_onnx, module, card, folder / "small.onnx", exporter="torchscript", opset=17)
    calib, _, _ = dataset_images("digits", card.preprocess, 200, split="train")
    quiet(quantize_int8, fp32, folder / "small.int8.onnx", calib, dataset="digits")
    agreement = compare(fp32, folder / "small.int8.onnx", x_va, y_va)
    return f"small (digits, {sum(p.numel() for p in module.parameters()):,} params, trained {result.accuracy:.1%})", agreement


def jpegs(count: int) -> list[bytes]:
    """Photo-sized JPEGs (400 x 300, smooth gradients plus noise), the same for every run."""
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:300, 0:400]
    out = []
    for i in range(count):
        base = np.stack([(xx * (i + 1)) % 256, (yy * (i + 2)) % 256, (xx + yy + 37 * i) % 256], -1)
        img = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


# -- in-process ------------------------------------------------------------------------------------
def ceiling(model: Path, images: list[bytes], seconds: float, batch: int = 16) -> float:
    """Images/s of `nasdsl infer`'s path in-process: decode, preprocess, batches of `batch`."""
    from nasdsl.deploy.infer import Classifier

    clf = Classifier(model, provider="cpu")
    files = [io.BytesIO(b) for b in images]
    list(clf.classify(files[:batch], batch=batch))  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for f in files:
            f.seek(0)
        done += sum(1 for _ in clf.classify(files, top=5, batch=batch))
    return done / (time.perf_counter() - start)


def latency(models: dict[str, Path], batches: list[int], rounds: int) -> dict[tuple[str, int], float]:
    """Median ms per onnxruntime run, every model and batch once per round (round-robin)."""
    from nasdsl.deploy.infer import Classifier

    clfs = {name: Classifier(path, provider="cpu") for name, path in models.items()}
    xs = {b: np.random.default_rng(b).standard_normal((b, 3, 224, 224)).astype(np.float32) for b in batches}
    times: dict[tuple[str, int], list[float]] = {(n, b): [] for n in clfs for b in batches}
    for (n, b) in times:
        clfs[n].logits(xs[b])  # warm up
    for _ in range(rounds):
        for (n, b), ts in times.items():
            t = time.perf_counter()
            clfs[n].logits(xs[b])
            ts.append(time.perf_counter() - t)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


# -- the server ------------------------------------------------------------------------------------
class Server:
    def __init__(self, model: Path, flags: list[str], logfile: Path):
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.err = open(logfile, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "nasdsl.cli.dispatch", "serve", str(model), "--port", "0",
                                      *flags], stdout=subprocess.PIPE, stderr=self.err, text=True, env=env)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            raise SystemExit(f"server did not start: {line!r}; see {logfile}")
        self.url = line.split("on ", 1)[1].split()[0]

    def stop(self) -> int:
        self.proc.terminate()
        rc = self.proc.wait(timeout=60)
        self.err.close()
        return rc


async def load(url: str, images: list[bytes], clients: int, requests: int, seconds: float) -> dict:
    """`clients` closed-loop keep-alive clients until `requests` are sent or `seconds` pass."""
    import httpx

    statuses: Counter = Counter()
    lat: list[float] = []
    batches: Counter = Counter()
    errors: list[str] = []
    retry_after_missing = 0
    sent = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        async def one_client(k: int) -> None:
            nonlocal sent, retry_after_missing
            i = k
            while sent < requests and time.perf_counter() < deadline:
                sent += 1
                body = images[i % len(images)]
                i += clients
                t = time.perf_counter()
                try:
                    r = await client.post("/v1/classify", content=body, headers={"Content-Type": "image/jpeg"})
                except httpx.HTTPError as e:
                    errors.append(f"{e.__class__.__name__}: {e}")
                    continue
                statuses[r.status_code] += 1
                if r.status_code == 200:
                    lat.append(time.perf_counter() - t)
                    batches[int(r.headers["x-batch-size"])] += 1
                elif r.status_code == 503 and "retry-after" not in r.headers:
                    retry_after_missing += 1

        start = time.perf_counter()
        await asyncio.gather(*(one_client(k) for k in range(clients)))
        wall = time.perf_counter() - start
    ok = statuses[200]
    ms = sorted(x * 1000 for x in lat)
    return {"ok": ok, "rps": ok / wall, "p50": float(np.percentile(ms, 50)) if ms else float("nan"),
            "p99": float(np.percentile(ms, 99)) if ms else float("nan"), "statuses": dict(statuses),
            "errors": errors, "batches": dict(batches), "wall": wall, "retry_after_missing": retry_after_missing,
            "mean_batch": sum(k * v for k, v in batches.items()) / max(1, sum(batches.values()))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200, help="requests per load configuration")
    ap.add_argument("--seconds", type=float, default=30, help="time bound per load configuration")
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--rounds", type=int, default=10, help="timed rounds for the fp32/int8 latency")
    ap.add_argument("--ceiling-seconds", type=float, default=10)
    ap.add_argument("--target", type=float, default=0.75,
                    help="least fp32 requests/s at the most clients, as a fraction of the in-process ceiling")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    import onnxruntime

    log(f"onnxruntime {onnxruntime.__version__}, {os.cpu_count()} CPUs; preparing models")
    folder = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    fp32, int8 = mobile_models(folder)
    images = jpegs(16)
    failed: list[str] = []

    log("in-process ceiling")
    ceil = ceiling(fp32, images, args.ceiling_seconds)

    rows = []
    modes = {"off": ["--max-batch", "1"], "on": ["--max-batch", "16", "--max-wait-ms", "5"]}
    for mode, flags in modes.items():
        server = Server(fp32, flags + ["--max-queue", "64"], folder / f"serve_{mode}.log")
        try:
            for c in clients:
                log(f"load: batching {mode}, {c} clients")
                asyncio.run(load(server.url, images, c, min(8, args.requests), args.seconds))  # warm up
                r = asyncio.run(load(server.url, images, c, args.requests, args.seconds))
                rows.append((f"fp32, batching {mode}", c, r))
                bad = {s: n for s, n in r["statuses"].items() if s != 200}
                if bad or r["errors"]:
                    failed.append(f"batching {mode}, {c} clients: statuses {bad}, errors {r['errors'][:3]}")
        finally:
            rc = server.stop()
            if rc != 0:
                failed.append(f"server (batching {mode}) exited {rc} on SIGTERM")
    server = Server(int8, modes["on"] + ["--max-queue", "64"], folder / "serve_int8.log")
    try:
        c = max(clients)
        log(f"load: int8, batching on, {c} clients")
        asyncio.run(load(server.url, images, c, min(8, args.requests), args.seconds))
        r = asyncio.run(load(server.url, images, c, args.requests, args.seconds))
        rows.append(("int8, batching on", c, r))
        if set(r["statuses"]) - {200} or r["errors"]:
            failed.append(f"int8: statuses {r['statuses']}, errors {r['errors'][:3]}")
    finally:
        if (rc := server.stop()) != 0:
            failed.append(f"server (int8) exited {rc} on SIGTERM")

    log("overload: --max-queue 4, 32 clients")
    server = Server(fp32, modes["on"] + ["--max-queue", "4"], folder / "serve_overload.log")
    try:
        over = asyncio.run(load(server.url, images, 32, max(args.requests, 300), args.seconds))
    finally:
        if (rc := server.stop()) != 0:
            failed.append(f"server (overload) exited {rc} on SIGTERM")
    refused = over["statuses"].get(503, 0)
    if not refused or set(over["statuses"]) - {200, 503} or over["errors"] or over["retry_after_missing"]:
        failed.append(f"overload: statuses {over['statuses']}, errors {over['errors'][:3]}, "
                      f"503 without Retry-After {over['retry_after_missing']}")

    log("fp32 vs int8 latency")
    lat = latency({"fp32": fp32, "int8": int8}, [1, 16], args.rounds)
    log("int8 agreement on a trained network")
    small_name, agreement = small_agreement(folder)

    print(f"\nnasdsl serve, NASNet-A Mobile 224 px, {os.cpu_count()} CPUs shared by client and server, "
          f"{args.requests} requests or {args.seconds:g} s per row")
    print(f"{'configuration':<22}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'mean batch':>12}"
          f"{'failed':>8}{'vs ceiling':>12}")
    for name, c, r in rows:
        failed_n = sum(n for s, n in r["statuses"].items() if s != 200) + len(r["errors"])
        print(f"{name:<22}{c:>8}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['mean_batch']:>12.2f}"
              f"{failed_n:>8}{r['rps'] / ceil:>12.2f}")
    print(f"{'in-process ceiling':<22}{'':>8}{ceil:>9.1f}   (nasdsl infer's path: decode + preprocess + "
          f"onnxruntime, batches of 16, same JPEGs)")
    for c in clients:
        on = next(r for n, cc, r in rows if n == "fp32, batching on" and cc == c)
        off = next(r for n, cc, r in rows if n == "fp32, batching off" and cc == c)
        print(f"  batching on/off at {c:>2} clients: {on['rps'] / off['rps']:.2f}x requests/s")
    print(f"overload (--max-queue 4, 32 clients, {sum(over['statuses'].values())} requests): "
          f"{over['statuses'].get(200, 0)} answered 200, {refused} refused 503 with Retry-After, "
          f"{len(over['errors'])} connection errors, p99 of the 200s {over['p99']:.1f} ms")

    print("\nfp32 vs int8 (in-process onnxruntime, median ms)")
    print(f"{'':<8}{'batch 1':>10}{'batch 16':>10}{'size MB':>10}")
    for n, p in (("fp32", fp32), ("int8", int8)):
        print(f"{n:<8}{lat[(n, 1)]:>10.1f}{lat[(n, 16)]:>10.1f}{p.stat().st_size / 1e6:>10.2f}")
    print(f"{'int8/fp32':<8}{lat[('int8', 1)] / lat[('fp32', 1)]:>10.2f}{lat[('int8', 16)] / lat[('fp32', 16)]:>10.2f}"
          f"{int8.stat().st_size / fp32.stat().st_size:>10.2f}")
    print(f"\nint8 agreement, {small_name}: {agreement.summary()}")
    most = max(clients)
    best = max(r["rps"] for n, c, r in rows if n.startswith("fp32") and c == most)
    verdict = "met" if best >= args.target * ceil else "MISSED"
    print(f"target: the server's best fp32 requests/s at {most} clients, {best:.1f}, is {best / ceil:.2f} of the "
          f"in-process ceiling ({ceil:.1f} images/s); at least {args.target:g}: {verdict}")
    if verdict == "MISSED":
        failed.append(f"server at {most} clients: {best / ceil:.2f} of the ceiling < {args.target:g}")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
