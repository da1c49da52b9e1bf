"""Start and stop the servers the benchmarks talk to: our API and Datasette, on loopback.

Each server runs in its own process group and is stopped with SIGTERM to the group (uvicorn's
worker processes too). Ports come from `BENCH_PORTS` (`8200-8299`) when set, else the OS.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.timing import BenchError, Http

ROOT = Path(__file__).resolve().parent.parent
DATASETTE_VERSION = "0.65.5"  # the version the reference figures were measured with
DATASETTE_SETTINGS = (
    ("sql_time_limit_ms", "60000"),
    ("facet_time_limit_ms", "60000"),
    ("max_returned_rows", "1000"),
)
_taken: set[int] = set()


def free_port() -> int:
    """A port nobody listens on: from `BENCH_PORTS` (`LOW-HIGH`) when set, else any."""
    wanted = os.environ.get("BENCH_PORTS", "").strip()
    if wanted:
        low, _, high = wanted.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    else:
        candidates = [0]
    for port in candidates:
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
        _taken.add(chosen)  # not handed out twice by this process, even once released
        return chosen
    raise RuntimeError(f"no free port in BENCH_PORTS={wanted}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not gone after 20 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Server:
    """A server process in its own process group."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def rss_mb(self) -> dict[int, float]:
        """Resident memory of every process in the group (ps), in MB."""
        out = subprocess.run(
            ["ps", "-o", "pid=,rss=", "-g", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        result = {}
        for line in out.splitlines():
            pid, rss = line.split()
            result[int(pid)] = int(rss) / 1024
        return result


@contextlib.contextmanager
def serve(
    command: list[str],
    env: dict[str, str],
    port: int,
    log: Path,
    health: str,
    *,
    timeout: float = 300,
) -> Iterator[Server]:
    """Run `command`, wait until `health` answers 200, yield the server, stop it after."""
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    tail = log.read_text()[-3000:]
                    raise RuntimeError(f"server exited ({process.returncode}), {log}:\n{tail}")
                with contextlib.suppress(OSError, http.client.HTTPException, BenchError):
                    client = Http(base_url, timeout=5)
                    try:
                        client.get(health)
                        break
                    finally:
                        client.close()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{base_url}{health} did not answer; see {log}")
                time.sleep(0.2)
            yield Server(process, base_url, log)
        finally:
            stop(process)


def serve_ours(
    database_url: str,
    log: Path,
    *,
    workers: int = 1,
    response_cache: bool = False,
) -> contextlib.AbstractContextManager[Server]:
    """Our API (`uvicorn app.main:app`) over a database loaded before.

    With `response_cache` off (TIMELINE_RESPONSE_CACHE_MB=0) every request runs its queries.
    """
    port = free_port()
    env = {**os.environ, "TIMELINE_DATABASE_URL": database_url}
    if not response_cache:
        env["TIMELINE_RESPONSE_CACHE_MB"] = "0"
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--no-server-header", "--no-proxy-headers"]
    return serve(command, env, port, log, "/health")


def serve_timeline(
    data: Path, database: Path, log: Path, *, workers: int = 1, startup_timeout: float = 900
) -> contextlib.AbstractContextManager[Server]:
    """`timeline serve`: migrates, loads `data` into the SQLite file if it changed, serves."""
    port = free_port()
    env = {**os.environ, "TIMELINE_DATABASE_URL": f"sqlite:///{database}"}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
    command += ["--data", str(data), "--port", str(port), "--workers", str(workers)]
    return serve(command, env, port, log, "/health", timeout=startup_timeout)


def ensure_datasette(venv: Path) -> str:
    """Datasette in its own venv (never one of the project's dependencies); its version."""
    binary = venv / "bin" / "datasette"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = venv / "bin" / "pip"
        subprocess.run([str(pip), "install", "-q", f"datasette=={DATASETTE_VERSION}"], check=True)
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def serve_datasette(venv: Path, db: Path, log: Path) -> contextlib.AbstractContextManager[Server]:
    """`datasette serve -i FILE`: immutable, so it may count and cache without locking."""
    port = free_port()
    command = [str(venv / "bin" / "datasette"), "serve", "-i", str(db)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    for setting, value in DATASETTE_SETTINGS:
        command += ["--setting", setting, value]
    return serve(command, dict(os.environ), port, log, "/-/versions.json")


def rss_line(rss: dict[int, float]) -> str:
    """`ps` resident memory of a server's processes, summed."""
    if not rss:
        return "–"
    parts = ", ".join(f"{mb:,.0f}" for _, mb in sorted(rss.items()))
    total = sum(rss.values())
    return f"{total:,.0f} MB" if len(rss) == 1 else f"{total:,.0f} MB in all ({parts} MB)"
