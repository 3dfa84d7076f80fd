"""A real multi-node Ray cluster on this one machine, started with the `ray` CLI as users do.

Each node is one `ray start --block` process in its own session (process group): the head at the
machine's address, further nodes on other loopback addresses (127.0.0.2, ...) so that Ray sees
distinct nodes with distinct IPs. Every port is chosen free, and the cluster has its own auth token
file, so that it never meets another Ray cluster on the machine. Killing a node's process group
with SIGKILL kills its raylet, its agents and its workers at once: the way a machine dies.
`ray stop` is never used: it would stop every Ray process of the user, other clusters included.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# the ray CLI of the environment the tests run in (its nodes then import this checkout's nasdsl)
RAY = Path(os.environ.get("NASDSL_RAY_CLI") or Path(sys.executable).with_name("ray"))
if not RAY.exists():
    RAY = Path(shutil.which("ray") or RAY)


def free_ports(n: int, host: str = "") -> list[int]:
    """n distinct ports that are free now."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class Node:
    name: str
    ip: str
    proc: subprocess.Popen
    log: Path
    cpus: float
    node_id: str | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal every process of the node (ray start, raylet, agents, workers): its process group
        and everything below its processes (a worker may have a group of its own)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def processes(self) -> list[int]:
        """The node's live processes: its process group and all their descendants."""
        table = _processes()
        mine = {pid for pid, (_, pgid) in table.items() if pgid == self.proc.pid}
        grew = True
        while grew:
            more = {pid for pid, (ppid, _) in table.items() if ppid in mine} - mine
            mine |= more
            grew = bool(more)
        return sorted(mine)


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) of every live (not zombie) process."""
    out = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    out[int(proc.name)] = (int(fields[1]), int(fields[2]))
    return out


@dataclass
class LocalCluster:
    """`head(...)` then `add_node(...)`; `env` is what a driver needs to reach the cluster."""

    root: Path
    nodes: list[Node] = field(default_factory=list)
    address: str | None = None
    port: int | None = None

    def __post_init__(self):
        self.root.mkdir(parents=True, exist_ok=True)
        token = self.root / "auth_token"
        if not token.exists():
            token.write_text(secrets.token_hex(32))
            token.chmod(0o600)
        # Ray's session folder holds unix sockets (paths at most 107 bytes): keep it short
        self.temp = Path(tempfile.mkdtemp(prefix="nasray", dir="/tmp"))
        self.env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}

    def _start(self, name: str, ip: str | None, cpus: float, extra: list[str], gpus: int = 0,
               resources: dict | None = None, hide: Path | None = None) -> Node:
        p = free_ports(8 + 12)
        args = [str(RAY), "start", "--block", f"--num-cpus={cpus}", f"--num-gpus={gpus}",
                f"--resources={json.dumps(resources or {})}", "--object-store-memory=80000000",
                "--disable-usage-stats", "--include-log-monitor=false",
                f"--node-manager-port={p[0]}", f"--object-manager-port={p[1]}",
                f"--dashboard-agent-listen-port={p[2]}", f"--dashboard-agent-grpc-port={p[3]}",
                f"--runtime-env-agent-port={p[4]}", f"--metrics-export-port={p[5]}",
                f"--worker-port-list={','.join(map(str, p[8:]))}", *extra]
        if ip:
            args.append(f"--node-ip-address={ip}")
        if hide is not None:  # the node's own view of the file system: `hide` is an empty tmpfs there
            args = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mount -t tmpfs nasdsl-hidden "$0" && exec "$@"', str(hide), *args]
        log = self.root / f"{name}.log"
        env = {**os.environ, **self.env}
        proc = subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=self.root)
        node = Node(name, ip or "", proc, log, cpus)
        self.nodes.append(node)
        return node

    def _started(self, start, timeout: float, tries: int = 3) -> Node:
        """Start a node; again (up to `tries` times) if it gives up: on a loaded machine Ray's fixed
        30 s wait for a raylet to register can run out."""
        for attempt in range(tries):
            node = start()
            try:
                self._wait_for("Ray runtime started", node, timeout)
                return node
            except RuntimeError:
                node.kill()
                node.proc.wait()
                self.nodes.remove(node)
                if attempt == tries - 1:
                    raise
        raise AssertionError("unreachable")

    def head(self, cpus: float = 1, gpus: int = 0, resources: dict | None = None, timeout: float = 180) -> Node:
        def start() -> Node:
            self.port, dash, client = free_ports(3)
            return self._start("head", None, cpus, ["--head", f"--port={self.port}", "--include-dashboard=false",
                                                    f"--dashboard-port={dash}", f"--ray-client-server-port={client}",
                                                    f"--temp-dir={self.temp}"], gpus, resources)

        node = self._started(start, timeout)
        text = node.log.read_text()
        host = next(line.split("--address=")[1].split("'")[1] for line in text.splitlines()
                    if "ray start --address=" in line)
        self.address = host
        node.ip = host.rsplit(":", 1)[0]
        return node

    def add_node(self, ip: str = "127.0.0.2", cpus: float = 1, gpus: int = 0, resources: dict | None = None,
                 timeout: float = 180, hide: Path | None = None) -> Node:
        """A worker node; `hide`: a folder this node sees empty (a private mount namespace, as a
        machine without that shared folder: needs root or CAP_SYS_ADMIN)."""
        assert self.address, "start the head first"
        return self._started(lambda: self._start(f"node-{len(self.nodes)}", ip, cpus, [f"--address={self.address}"],
                                                 gpus, resources, hide), timeout)

    def _wait_for(self, text: str, node: Node, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in node.log.read_text(errors="replace"):
                return
            if not node.alive():
                raise RuntimeError(f"{node.name} exited:\n{node.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        raise TimeoutError(f"{node.name} did not start in {timeout} s:\n{node.log.read_text(errors='replace')[-3000:]}")

    def alive_nodes(self, timeout: float = 60) -> list[dict]:
        """Alive nodes as the GCS sees them (asked from a fresh process, so no driver state is shared)."""
        code = ("import json, ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False);"
                "print(json.dumps([{'id': n['NodeID'], 'ip': n['NodeManagerAddress'], 'res': n['Resources']}"
                " for n in ray.nodes() if n['Alive']]))")
        python = RAY.with_name("python")
        out = subprocess.run([str(python), "-c", code, self.address], capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, **self.env})
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        return json.loads(out.stdout.strip().splitlines()[-1])

    def stop(self, grace: float = 10) -> None:
        """SIGTERM every node, SIGKILL what is left after `grace` seconds, reap them."""
        for node in self.nodes:
            node.kill(signal.SIGTERM)
        deadline = time.time() + grace
        for node in self.nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.proc.wait(max(0.1, deadline - time.time()))
        for node in self.nodes:  # the group may outlive its leader: kill what is left of it
            node.kill(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.proc.wait(5)
        shutil.rmtree(self.temp, ignore_errors=True)

    def running(self, node: Node, task: str) -> list[int]:
        """Pids of the node's workers running a task of function `task` now (Ray names a worker
        process after the function it runs, `ray::IDLE` between tasks)."""
        return [pid for pid in node.processes() if _cmdline(pid).startswith("ray::") and task in _cmdline(pid)]

    def leftovers(self) -> list[int]:
        """Pids still alive of any node (empty after stop)."""
        return [pid for node in self.nodes for pid in node.processes()]


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
