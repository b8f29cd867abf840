"""Load and soak: many API clients against a real server while a large PDF is ingested into the same index.

``python -m benchmarks load`` (or ``make load``) runs two phases, each against a fresh ``lotse serve`` process
(uvicorn, extractive mode, no LLM) over a private copy of the sample-corpus index:

1. **Concurrency under ingest**: ``--clients`` (32) API clients send a fixed number of ``/api/ask`` requests
   each (questions of ``tests/eval/questions.jsonl``, follow-ups with their history), one round per think-time
   range (``--rounds``), while ``lotse ingest`` (a separate process) ingests a generated ``--pages``-page PDF into
   the same index; then one probe client until the ingest has finished and 20 s beyond. Settings: a production
   configuration for a 2-core host (see ``PRODUCTION``); every client has its own loopback address (127.0.x.y),
   so the per-client rate limit applies per client as it would in production.
2. **Saturation**: 3x the clients, no think time, ``max_concurrent_answers=2``: requests beyond the limits must
   get ``429`` promptly (time-to-429 is reported), and afterwards the service must recover (a normal request
   succeeds, RSS back within bounds). One flooding client shows the per-client rate limit on its own.

``python -m benchmarks soak`` (or ``make soak``, ``SOAK_MINUTES=10``) runs phase 1 at a lower intensity for a
fixed duration, re-ingesting a changed PDF every few minutes, and reports the server's RSS over time.

All traffic stays on loopback; every loop is bounded by a request count or a deadline. The server's RSS is
sampled with psutil; the machine's load average and the CPU used by processes other than the benchmark are
recorded, because the figures are only meaningful on an otherwise quiet machine. Results are written to
``benchmarks/results/load.json`` / ``soak.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation import percentile
from benchmarks.common import CORPUS, EVAL_DIR, ROOT, machine, progress, save_result, table

#: What we would run on a 2-core host in extractive mode (and what phase 1 and the soak use). The answer
#: slots bound CPU work and memory (the embedder is serialised anyway, so more slots only add waiting inside
#: the app); 20 requests a minute per client is far above what a person types and stops one client from
#: taking everyone's slots. A request waits up to 5 s (ChatService.slot_wait_s) for a slot before its 429.
PRODUCTION = {"LOTSE_MAX_CONCURRENT_ANSWERS": "8", "LOTSE_RATE_LIMIT": "20"}
SATURATION = {"LOTSE_MAX_CONCURRENT_ANSWERS": "2", "LOTSE_RATE_LIMIT": "20"}
TARGET_P95_S = 1.0
REQUEST_TIMEOUT_S = 60.0
#: uvicorn closes idle keep-alive connections after 5 s; a client idle for longer opens a new one.
KEEP_ALIVE_S = 4.0
_REPLACEMENTS = str.maketrans(
    {
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "\u00a0": " ",
        "•": "-",
        "→": "->",
        "€": "EUR",
    }
)


# -- inputs ------------------------------------------------------------------------------------------------
def questions() -> list[dict[str, Any]]:
    """Request bodies: every question of the eval set, follow-ups with their history as user turns."""
    bodies = []
    for line in (EVAL_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            history = [{"role": "user", "content": h} for h in item.get("history") or []]
            bodies.append({"question": item["question"], "history": history})
    return bodies


def make_pdf(path: Path, pages: int, seed: int) -> Path:
    """A ``pages``-page German report: numbered chapter headings and paragraphs of corpus sentences."""
    from fpdf import FPDF

    from benchmarks.synthetic import pool

    sentences, _, titles = pool()
    rng = random.Random(seed)

    def latin1(text: str) -> str:
        return text.translate(_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF()
    pdf.set_title(f"Lastprobe Verstetigungsbericht {seed}")
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, latin1(f"{page} {rng.choice(titles)}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        while pdf.get_y() < 250:
            paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
            pdf.multi_cell(0, 5, latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def corpus_index(given: Path | None) -> Path:
    if given is not None:
        if not (given / "chroma").is_dir():
            raise SystemExit(f"--index {given}: no index there (expected a 'chroma' folder)")
        return given
    from benchmarks.quality import lotse_index

    return lotse_index(CORPUS)


# -- processes ---------------------------------------------------------------------------------------------
def lotse_env(index: Path, config: dict[str, str]) -> dict[str, str]:
    """The caller's environment without LOTSE_*/OPENAI_* (no LLM, no Chroma server), plus ``config``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    env.update(
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(ROOT),
        LOTSE_INDEX_DIR=str(index),
    )
    env.update(config)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path


@contextmanager
def serve(index: Path, config: dict[str, str], workdir: Path, name: str) -> Iterator[Server]:
    """``lotse serve`` (the production command: uvicorn with the UI) in its own process, cwd without ``.env``."""
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve"],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=lotse_env(index, {**config, "LOTSE_HOST": "127.0.0.1", "LOTSE_PORT": str(port)}),
        )
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                status, body, _ = request(port, "GET", "/api/health", timeout=5)
                if status == 200 and json.loads(body)["status"] == "ready":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not ready within 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_ingest(index: Path, pdf: Path, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    """``lotse ingest FILE`` in its own process (the second writer-free reader is the server)."""
    out = (workdir / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", str(pdf), "--no-prune"],
        cwd=workdir,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=lotse_env(index, {}),
    )
    out.close()
    return proc


# -- HTTP --------------------------------------------------------------------------------------------------
def request(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    timeout: float = 60,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = c.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        if own:
            c.close()


@dataclass
class Sample:
    start: float  # seconds since the phase started
    seconds: float
    status: int  # 0: exception
    code: str = ""  # the error body's "code", or the exception's class
    retry_after: str | None = None


def error_code(status: int, data: bytes) -> str:
    """The error body's code; a 429 is told apart by its text: no free answer slot ("busy") or the client's
    own rate limit ("rate_limited"); both carry the code "rate_limited"."""
    if status == 200:
        return ""
    try:
        body = json.loads(data)
    except ValueError:
        return "not-json"
    if status == 429 and "busy" in str(body.get("error_en", "")):
        return "busy"
    return str(body.get("code", ""))


def client_address(n: int) -> str:
    """A loopback source address per client (127.0.1.1 …): the rate limit is per client address."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def run_client(
    n: int,
    port: int,
    bodies: list[dict[str, Any]],
    count: int,
    think: Callable[[], float],
    t0: float,
    stop_at: float,
    out: list[Sample],
) -> None:
    """``count`` requests (or until ``stop_at``) on one keep-alive connection from the client's own address."""
    rng = random.Random(n)
    conn = None
    last_used = 0.0
    for _ in range(count):
        if time.perf_counter() >= stop_at:
            break
        body = rng.choice(bodies)
        if conn is not None and time.perf_counter() - last_used > KEEP_ALIVE_S:
            conn.close()  # the server has closed it by now (as a browser would, open a new one)
            conn = None
        if conn is None:
            conn = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=REQUEST_TIMEOUT_S, source_address=(client_address(n), 0)
            )
        started = time.perf_counter()
        try:
            status, data, headers = request(port, "POST", "/api/ask", body, conn=conn)
            code = error_code(status, data)
            out.append(
                Sample(started - t0, time.perf_counter() - started, status, code, headers.get("retry-after"))
            )
            if headers.get("connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            out.append(Sample(started - t0, time.perf_counter() - started, 0, type(e).__name__))
            if conn is not None:
                conn.close()
            conn = None
        last_used = time.perf_counter()
        pause = think()
        if pause > 0:
            time.sleep(min(pause, max(0.0, stop_at - time.perf_counter())))
    if conn is not None:
        conn.close()


def run_clients(
    port: int,
    n_clients: int,
    per_client: int,
    think: Callable[[], float],
    *,
    duration_s: float = 3600.0,
    first_client: int = 0,
) -> tuple[list[Sample], float]:
    bodies = questions()
    samples: list[Sample] = []
    t0 = time.perf_counter()
    threads = [
        threading.Thread(
            target=run_client,
            daemon=True,
            args=(first_client + i, port, bodies, per_client, think, t0, t0 + duration_s, samples),
        )
        for i in range(n_clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, time.perf_counter() - t0


# -- measuring ---------------------------------------------------------------------------------------------
class Monitor:
    """Samples the server's RSS and the CPU time of the server, the ingest and everything else on the machine."""

    def __init__(self, server_pid: int, interval: float = 0.25) -> None:
        import psutil

        self.psutil = psutil
        self.server = psutil.Process(server_pid)
        self.interval = interval
        self.rss: list[tuple[float, int]] = []
        self.ingest_peak = 0
        self.ingest: Any = None
        self._ingest_cpu: dict[int, float] = {}  # last CPU seconds seen per ingest process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.perf_counter()

    def watch_ingest(self, pid: int) -> None:
        self.ingest = self.psutil.Process(pid)
        self._ingest_cpu[pid] = 0.0

    def _rss(self, proc: Any) -> int:
        try:
            return int(proc.memory_info().rss) + sum(int(c.memory_info().rss) for c in proc.children(True))
        except self.psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.rss.append((time.perf_counter() - self.t0, self._rss(self.server)))
            if self.ingest is not None:
                self.ingest_peak = max(self.ingest_peak, self._rss(self.ingest))
                self._ingest_cpu[self.ingest.pid] = max(
                    self._ingest_cpu.get(self.ingest.pid, 0.0), self._proc_cpu(self.ingest)
                )
            self._stop.wait(self.interval)

    def __enter__(self) -> Monitor:
        self.t0 = time.perf_counter()
        self.cpu0 = self._cpu()
        self.load0 = os.getloadavg()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu1 = self._cpu()
        self.wall = time.perf_counter() - self.t0
        self.load1 = os.getloadavg()

    def _cpu(self) -> dict[str, float]:
        """Busy CPU seconds of the machine, the server and this benchmark process (its client threads)."""
        times = self.psutil.cpu_times()
        busy = (
            times.user
            + times.nice
            + times.system
            + getattr(times, "irq", 0.0)
            + getattr(times, "softirq", 0.0)
        )

        ingest = sum(self._ingest_cpu.values())
        if self.ingest is not None:  # the running one, now (the sampler may be up to an interval behind)
            ingest += max(0.0, self._proc_cpu(self.ingest) - self._ingest_cpu.get(self.ingest.pid, 0.0))
        own = self.psutil.Process().cpu_times()
        return {
            "machine": busy,
            "server": self._proc_cpu(self.server),
            "clients": float(own.user + own.system),
            "ingest": ingest,
        }

    def _proc_cpu(self, p: Any) -> float:
        try:
            t = p.cpu_times()
            return float(t.user + t.system + t.children_user + t.children_system)
        except self.psutil.Error:
            return 0.0

    def summary(self) -> dict[str, Any]:
        d = {k: self.cpu1[k] - self.cpu0[k] for k in self.cpu0}
        other = max(0.0, d["machine"] - d["server"] - d["clients"] - d["ingest"])
        cores = os.cpu_count() or 1
        values = [r for _, r in self.rss]
        return {
            "wall_s": round(self.wall, 1),
            "load_avg_1m_start": round(self.load0[0], 2),
            "load_avg_1m_end": round(self.load1[0], 2),
            "cpu_s": {
                "server": round(d["server"], 1),
                "clients": round(d["clients"], 1),
                "ingest": round(d["ingest"], 1),
                "other_processes": round(other, 1),
                "available": round(self.wall * cores, 1),
            },
            "rss_mb": {
                "start": _mb(values[0]) if values else None,
                "peak": _mb(max(values)) if values else None,
                "end": _mb(values[-1]) if values else None,
            },
            "ingest_peak_rss_mb": _mb(self.ingest_peak) if self.ingest_peak else None,
        }


def _mb(value: float) -> float:
    return round(value / 2**20, 1)


def latency_stats(samples: list[Sample]) -> dict[str, Any]:
    ok = [s.seconds for s in samples if s.status == 200]
    refused = [s.seconds for s in samples if s.status == 429]
    errors = [s for s in samples if s.status not in (200, 429)]
    codes: dict[str, int] = {}
    for s in samples:
        if s.status != 200:
            key = f"{s.status} {s.code}".strip()
            codes[key] = codes.get(key, 0) + 1
    return {
        "requests": len(samples),
        "ok": len(ok),
        "p50_s": round(percentile(ok, 50), 3) if ok else None,
        "p95_s": round(percentile(ok, 95), 3) if ok else None,
        "max_s": round(max(ok), 3) if ok else None,
        "refused_429": len(refused),
        "time_to_429_p50_s": round(percentile(refused, 50), 3) if refused else None,
        "time_to_429_p95_s": round(percentile(refused, 95), 3) if refused else None,
        "time_to_429_max_s": round(max(refused), 3) if refused else None,
        "errors": len(errors),
        "by_status": codes,
        "retry_after_present": all(s.retry_after for s in samples if s.status == 429),
    }


def warm_up(port: int) -> None:
    """First requests build the lexical snapshot and load the HNSW index; they are not measured."""
    bodies = questions()
    for i in range(4):
        status, body, _ = request(port, "POST", "/api/ask", bodies[i * 7])
        if status != 200:
            raise SystemExit(f"warm-up request failed: {status} {body[:300]!r}")


def _uniform(low: float, high: float, seed: int) -> Callable[[], float]:
    rng = random.Random(seed)
    lock = threading.Lock()

    def draw() -> float:
        with lock:
            return rng.uniform(low, high)

    return draw


# -- phases ------------------------------------------------------------------------------------------------
def phase_ingest(index: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    pdf = make_pdf(workdir / "pdfs" / "lastprobe-bericht.pdf", args.pages, seed=1)
    progress(
        f"phase 1: {args.pages}-page PDF ({pdf.stat().st_size / 2**20:.1f} MB) generated; starting server"
    )
    rounds: list[dict[str, Any]] = []
    with serve(index, PRODUCTION, workdir, "server-phase1") as server:
        warm_up(server.port)
        with Monitor(server.proc.pid) as monitor:
            ingest = start_ingest(index, pdf, workdir, "ingest-phase1")
            monitor.watch_ingest(ingest.pid)
            ingest_t0 = time.perf_counter() - monitor.t0
            time.sleep(args.ingest_head_start)  # let it get past parsing, into embedding and writing
            for n, (low, high) in enumerate(args.rounds):
                progress(
                    f"phase 1, round {n + 1}: {args.clients} clients x {args.requests} requests, think "
                    f"{low:g}-{high:g} s, while `lotse ingest` runs"
                )
                started = time.perf_counter() - monitor.t0
                cpu0 = monitor._cpu()
                samples, wall = run_clients(server.port, args.clients, args.requests, _uniform(low, high, n))
                cpu1 = monitor._cpu()
                stats = latency_stats(samples)
                rounds.append(
                    {
                        "think_s": [low, high],
                        "started_s_into_ingest": round(started - ingest_t0, 1),
                        "during_ingest": ingest.poll() is None,
                        "wall_s": round(wall, 1),
                        "throughput_rps": round(stats["ok"] / wall, 2),
                        "cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0},
                        **stats,
                    }
                )
            ingest_running_at_end = ingest.poll() is None
            progress("phase 1: clients done; one probe client until the ingest has finished and 20 s beyond")
            probe = probe_until(server.port, ingest, monitor.t0, after_s=20.0)
            ingest_rc = ingest.returncode
            ingest_t1 = probe.pop("ingest_end")
        ingest_log = (workdir / "ingest-phase1.log").read_text(errors="replace")
        status, body, _ = request(server.port, "GET", "/api/health")
        health = json.loads(body)
    first = rounds[0]
    return {
        "config": PRODUCTION,
        "clients": args.clients,
        "requests_per_client": args.requests,
        "pdf_pages": args.pages,
        "pdf_mb": round(pdf.stat().st_size / 2**20, 2),
        "ingest": {
            "exit_code": ingest_rc,
            "seconds": round(ingest_t1 - ingest_t0, 1),
            "clients_started_after_s": rounds[0]["started_s_into_ingest"],
            "still_running_when_clients_finished": ingest_running_at_end,
            "log_tail": ingest_log.strip().splitlines()[-3:],
        },
        "index_after": {k: health.get(k) for k in ("status", "documents", "chunks")},
        "rounds": rounds,
        "probe": probe,
        "monitor": monitor.summary(),
        "meets_target": bool(
            first["p95_s"] is not None
            and first["p95_s"] <= TARGET_P95_S
            and first["errors"] == 0
            and first["refused_429"] == 0
        ),
    }


def probe_until(port: int, ingest: subprocess.Popen[bytes], t0: float, *, after_s: float) -> dict[str, Any]:
    """One client (every 3.2 s: under the rate limit) while the ingest runs and ``after_s`` beyond its end, when
    the server notices the new document and rebuilds its lexical snapshot inside a user's search."""
    bodies = questions()
    samples: list[Sample] = []
    ingest_end: float | None = None
    deadline = time.perf_counter() + 1800
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=REQUEST_TIMEOUT_S, source_address=(client_address(240), 0)
    )
    i = 0
    while time.perf_counter() < deadline:
        if ingest_end is None and ingest.poll() is not None:
            ingest_end = time.perf_counter() - t0
        if ingest_end is not None and time.perf_counter() - t0 > ingest_end + after_s:
            break
        started = time.perf_counter()
        try:
            status, data, _ = request(port, "POST", "/api/ask", bodies[i % len(bodies)], conn=conn)
            samples.append(
                Sample(started - t0, time.perf_counter() - started, status, error_code(status, data))
            )
        except (OSError, http.client.HTTPException) as e:
            samples.append(Sample(started - t0, time.perf_counter() - started, 0, type(e).__name__))
            conn.close()
        i += 1
        time.sleep(max(0.0, 3.2 - (time.perf_counter() - started)))
    conn.close()
    if ingest_end is None:
        ingest.kill()
        ingest.wait()
        ingest_end = time.perf_counter() - t0
    around = [s for s in samples if ingest_end - 5 <= s.start <= ingest_end + after_s]
    return {
        "ingest_end": ingest_end,
        "during_ingest": latency_stats([s for s in samples if s.start + s.seconds <= ingest_end]),
        "after_ingest_end": latency_stats([s for s in samples if s.start >= ingest_end]),
        "slowest_near_ingest_end": sorted((round(s.seconds, 3) for s in around), reverse=True)[:3],
    }


class HealthProbe:
    """``GET /api/health`` once a second during saturation: can a load balancer still see the service?"""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                status, _, _ = request(self.port, "GET", "/api/health", timeout=30)
                self.samples.append(Sample(0.0, time.perf_counter() - started, status))
            except (OSError, http.client.HTTPException) as e:
                self.samples.append(Sample(0.0, time.perf_counter() - started, 0, type(e).__name__))
            self._stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        times = [s.seconds for s in self.samples]
        return {
            "checks": len(times),
            "ok": sum(1 for s in self.samples if s.status == 200),
            "p50_s": round(percentile(times, 50), 3) if times else None,
            "max_s": round(max(times), 3) if times else None,
        }


def phase_saturation(index: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    n = 3 * args.clients
    progress(
        f"phase 2: {n} clients x {args.saturation_requests} requests, no think time, "
        f"max_concurrent_answers={SATURATION['LOTSE_MAX_CONCURRENT_ANSWERS']}"
    )
    with serve(index, SATURATION, workdir, "server-phase2") as server:
        warm_up(server.port)
        with Monitor(server.proc.pid) as monitor:
            baseline = monitor._rss(monitor.server)
            health = HealthProbe(server.port)
            with health:
                samples, wall = run_clients(server.port, n, args.saturation_requests, lambda: 0.0)
            # One client alone flooding: the per-client rate limit answers, before any answer slot is involved.
            flood, _ = run_clients(
                server.port, 1, 2 * int(SATURATION["LOTSE_RATE_LIMIT"]), lambda: 0.0, first_client=n
            )
            # Recovery: a normal request from a new client succeeds, and memory settles.
            started = time.perf_counter()
            status, body, _ = request(server.port, "POST", "/api/ask", questions()[0])
            recovery_s = time.perf_counter() - started
            time.sleep(2.0)
            after = monitor._rss(monitor.server)
    stats = latency_stats(samples)
    summary = monitor.summary()
    return {
        "config": SATURATION,
        "clients": n,
        "requests_per_client": args.saturation_requests,
        "wall_s": round(wall, 1),
        "all": stats,
        "flood_one_client": latency_stats(flood),
        "health_during": health.summary(),
        "recovery": {
            "status": status,
            "seconds": round(recovery_s, 3),
            "answered": status == 200 and bool(json.loads(body).get("answer")),
            "rss_mb_before": _mb(baseline),
            "rss_mb_peak": summary["rss_mb"]["peak"],
            "rss_mb_after": _mb(after),
        },
        "monitor": summary,
    }


def soak(index: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    minutes = args.minutes
    progress(
        f"soak: {minutes:g} min, {args.soak_clients} clients, a {args.soak_pages}-page PDF re-ingested "
        f"every {args.reingest_s:.0f} s"
    )
    pdf_path = workdir / "pdfs" / "soak-bericht.pdf"
    cycles: list[dict[str, Any]] = []
    with serve(index, PRODUCTION, workdir, "server-soak") as server:
        warm_up(server.port)
        with Monitor(server.proc.pid, interval=1.0) as monitor:
            deadline = time.perf_counter() + minutes * 60
            result: dict[str, Any] = {}

            def clients() -> None:
                result["samples"], result["wall"] = run_clients(
                    server.port,
                    args.soak_clients,
                    int(minutes * 60 / max(0.5, args.soak_think[0][0])) + 1,  # the deadline ends it first
                    _uniform(args.soak_think[0][0], args.soak_think[0][1], 2),
                    duration_s=minutes * 60,
                )

            runner = threading.Thread(target=clients, daemon=True)
            runner.start()
            cycle = 0
            while time.perf_counter() < deadline:
                cycle += 1
                make_pdf(pdf_path, args.soak_pages, seed=100 + cycle)  # same name, new content: a new version
                started = time.perf_counter()
                ingest = start_ingest(index, pdf_path, workdir, f"ingest-soak-{cycle}")
                monitor.watch_ingest(ingest.pid)
                rc = ingest.wait(timeout=1800)
                cycles.append(
                    {
                        "cycle": cycle,
                        "exit_code": rc,
                        "seconds": round(time.perf_counter() - started, 1),
                        "at_s": round(started - monitor.t0, 1),
                    }
                )
                pause_until = min(deadline, started + args.reingest_s)
                while time.perf_counter() < pause_until:
                    time.sleep(0.5)
            runner.join()
        status, body, _ = request(server.port, "GET", "/api/health")
        health = json.loads(body)
    rss = monitor.rss
    per_minute: list[dict[str, Any]] = []
    for m in range(int(minutes + 0.999)):
        window = [r for t, r in rss if m * 60 <= t < (m + 1) * 60]
        if window:
            per_minute.append(
                {
                    "minute": m + 1,
                    "rss_mb_mean": _mb(sum(window) / len(window)),
                    "rss_mb_max": _mb(max(window)),
                }
            )
    samples: list[Sample] = result["samples"]
    per_minute_lat = []
    for row in per_minute:
        m = row["minute"] - 1
        ok = [s.seconds for s in samples if s.status == 200 and m * 60 <= s.start < (m + 1) * 60]
        row.update(
            requests=sum(1 for s in samples if m * 60 <= s.start < (m + 1) * 60),
            p95_s=round(percentile(ok, 95), 3) if ok else None,
        )
        per_minute_lat.append(row)
    later = [(t, r) for t, r in rss if t >= 60] or rss
    slope = _slope(later) * 60 / 2**20  # MB per minute after the first minute
    return {
        "config": PRODUCTION,
        "minutes": minutes,
        "clients": args.soak_clients,
        "think_s": list(args.soak_think[0]),
        "pdf_pages": args.soak_pages,
        "ingest_cycles": cycles,
        "index_after": {k: health.get(k) for k in ("status", "documents", "chunks")},
        "all": latency_stats(samples),
        "throughput_rps": round(sum(1 for s in samples if s.status == 200) / result["wall"], 2),
        "per_minute": per_minute_lat,
        "rss_growth_mb": round(per_minute[-1]["rss_mb_mean"] - per_minute[0]["rss_mb_mean"], 1)
        if per_minute
        else None,
        "rss_slope_mb_per_min_after_first_minute": round(slope, 2),
        "monitor": monitor.summary(),
    }


def _slope(points: list[tuple[float, int]]) -> float:
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(r for _, r in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (r - my) for t, r in points) / var if var else 0.0


# -- report ------------------------------------------------------------------------------------------------
def report_load(data: dict[str, Any]) -> str:
    p1, p2 = data["phase1"], data["phase2"]
    m1 = p1["monitor"]
    pd, pa = p1["probe"]["during_ingest"], p1["probe"]["after_ingest_end"]
    rows: list[tuple[Any, ...]] = []
    for r in p1["rounds"]:
        c = r["cpu_s"]
        rows.append(
            (
                f"{p1['clients']} clients, think {r['think_s'][0]:g}-{r['think_s'][1]:g} s"
                + ("" if r["during_ingest"] else " (ingest had ended)"),
                r["requests"],
                r["ok"],
                r["p50_s"],
                r["p95_s"],
                r["max_s"],
                r["refused_429"],
                r["errors"],
                r["throughput_rps"],
                f"{c['server']:.0f}/{c['ingest']:.0f}/{c['machine'] - c['server'] - c['clients'] - c['ingest']:.0f}",
            )
        )
    for name, x in (
        ("1 probe client, rest of the ingest", pd),
        ("1 probe client, 20 s after the ingest", pa),
    ):
        rows.append(
            (
                name,
                x["requests"],
                x["ok"],
                x["p50_s"],
                x["p95_s"],
                x["max_s"],
                x["refused_429"],
                x["errors"],
                "",
                "",
            )
        )
    a = p1["rounds"][0]
    s, f = p2["all"], p2["flood_one_client"]
    lines = [
        f"## Load: {p1['clients']} clients while a {p1['pdf_pages']}-page PDF is ingested "
        f"(config {_config(p1['config'])})",
        "",
        table(
            [
                "run",
                "requests",
                "ok",
                "p50 s",
                "p95 s",
                "max s",
                "429",
                "errors",
                "ok/s",
                "CPU s server/ingest/others",
            ],
            rows,
        ),
        "",
        f"Target p95 <= {TARGET_P95_S:g} s, 0 errors, no 429: {'met' if p1['meets_target'] else 'MISSED'}. "
        f"Ingest: {p1['ingest']['seconds']} s (exit {p1['ingest']['exit_code']}); index afterwards "
        f"{p1['index_after']['documents']} documents, {p1['index_after']['chunks']} chunks; ingest peak RSS "
        f"{m1['ingest_peak_rss_mb']} MB; the clients started {p1['ingest']['clients_started_after_s']} s into the "
        f"ingest. Slowest probe requests within 5 s before to 20 s after the ingest ended (the server notices the "
        f"new document and rebuilds its lexical snapshot): {p1['probe']['slowest_near_ingest_end']} s. "
        f"Non-200 in round 1: {a['by_status'] or 'none'}. Server RSS {m1['rss_mb']['start']} MB at the start, "
        f"peak {m1['rss_mb']['peak']} MB, {m1['rss_mb']['end']} MB at the end.",
        _cpu_line(m1),
        "",
        f"## Saturation: {p2['clients']} clients, no think time (config {_config(p2['config'])})",
        "",
        table(
            ["run", "requests", "ok", "p95 s (ok)", "429", "time-to-429 p50 s", "p95 s", "max s", "errors"],
            [
                (
                    "saturation",
                    s["requests"],
                    s["ok"],
                    s["p95_s"],
                    s["refused_429"],
                    s["time_to_429_p50_s"],
                    s["time_to_429_p95_s"],
                    s["time_to_429_max_s"],
                    s["errors"],
                ),
                (
                    "one client flooding",
                    f["requests"],
                    f["ok"],
                    f["p95_s"],
                    f["refused_429"],
                    f["time_to_429_p50_s"],
                    f["time_to_429_p95_s"],
                    f["time_to_429_max_s"],
                    f["errors"],
                ),
            ],
        ),
        "",
        f"Non-200: {s['by_status'] or 'none'}; Retry-After on every 429: {s['retry_after_present']}. "
        f"Recovery: a normal request afterwards got {p2['recovery']['status']} in {p2['recovery']['seconds']} s; "
        f"RSS {p2['recovery']['rss_mb_before']} MB before, {p2['recovery']['rss_mb_peak']} MB peak, "
        f"{p2['recovery']['rss_mb_after']} MB after. /api/health once a second during the saturation: "
        f"{p2['health_during']['ok']} of {p2['health_during']['checks']} ok, p50 {p2['health_during']['p50_s']} s, "
        f"max {p2['health_during']['max_s']} s.",
        _cpu_line(p2["monitor"]),
    ]
    return "\n".join(lines)


def report_soak(data: dict[str, Any]) -> str:
    s = data["soak"]
    a = s["all"]
    rows = [
        (r["minute"], r["requests"], r["p95_s"], r["rss_mb_mean"], r["rss_mb_max"]) for r in s["per_minute"]
    ]
    return "\n".join(
        [
            f"## Soak: {s['minutes']:g} min, {s['clients']} clients, think {s['think_s'][0]:g}-{s['think_s'][1]:g} s, "
            f"{len(s['ingest_cycles'])} ingests of a changed {s['pdf_pages']}-page PDF (config {_config(s['config'])})",
            "",
            table(["minute", "requests", "p95 s", "RSS MB mean", "RSS MB max"], rows),
            "",
            f"{a['requests']} requests, {a['ok']} ok, p50 {a['p50_s']} s, p95 {a['p95_s']} s, max {a['max_s']} s, "
            f"429: {a['refused_429']}, errors: {a['errors']} ({a['by_status'] or 'none'}); {s['throughput_rps']} ok/s. "
            f"RSS growth first to last minute: {s['rss_growth_mb']} MB; slope after the first minute "
            f"{s['rss_slope_mb_per_min_after_first_minute']} MB/min. Index afterwards: {s['index_after']}.",
            _cpu_line(s["monitor"]),
        ]
    )


def _config(config: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items())


def _cpu_line(m: dict[str, Any]) -> str:
    c = m["cpu_s"]
    return (
        f"Machine: load average {m['load_avg_1m_start']} at start, {m['load_avg_1m_end']} at end; CPU seconds "
        f"in {m['wall_s']} s ({c['available']} available): server {c['server']}, ingest {c['ingest']}, "
        f"benchmark clients {c['clients']}, other processes (not ours) {c['other_processes']}."
    )


# -- entry -------------------------------------------------------------------------------------------------
def _ranges(text: str) -> list[tuple[float, float]]:
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        ranges.append((float(low), float(high or low)))
    return ranges


def parser(soak_mode: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m benchmarks {'soak' if soak_mode else 'load'}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--index",
        type=Path,
        help="an existing sample-corpus index to copy (default: the cached "
        "benchmark index, built on first use)",
    )
    p.add_argument("--clients", type=int, default=32, help="API clients in phase 1 (phase 2: 3x; default 32)")
    p.add_argument("--requests", type=int, default=10, help="requests per client in phase 1 (default 10)")
    p.add_argument(
        "--rounds",
        type=_ranges,
        default=_ranges("1-3,5-10"),
        help="phase 1: one round of requests per think-time range (s) between a client's requests, all during "
        "the ingest; the first is the headline (default 1-3,5-10)",
    )
    p.add_argument(
        "--soak-think", type=_ranges, default=_ranges("3-8"), help="soak think time range (default 3-8)"
    )
    p.add_argument(
        "--pages", type=int, default=200, help="pages of the PDF ingested in phase 1 (default 200)"
    )
    p.add_argument(
        "--ingest-head-start",
        type=float,
        default=3.0,
        help="seconds the ingest runs before the clients start (default 3)",
    )
    p.add_argument("--saturation-requests", type=int, default=4, help="requests per client in phase 2")
    p.add_argument("--phase", choices=["1", "2", "both"], default="both")
    p.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("SOAK_MINUTES") or 10),
        help="soak duration (default: $SOAK_MINUTES or 10)",
    )
    p.add_argument("--soak-clients", type=int, default=8, help="clients during the soak (default 8)")
    p.add_argument("--soak-pages", type=int, default=30, help="pages of the PDF re-ingested during the soak")
    p.add_argument(
        "--reingest-s", type=float, default=120.0, help="seconds between soak ingests (default 120)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """``[load|soak] [options]``: the load benchmark (default) or the soak."""
    argv = list(sys.argv[1:] if argv is None else argv)
    soak_mode = bool(argv) and argv[0] == "soak"
    if argv and argv[0] in ("load", "soak"):
        argv = argv[1:]
    args = parser(soak_mode).parse_args(argv)
    m = machine()
    print(
        f"# {'Soak' if soak_mode else 'Load'} benchmark {m['date']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_gb']} GB RAM, load average {m['load_avg_1m']} at start; code {m['code']}\n",
        flush=True,
    )
    source = corpus_index(args.index)
    workdir = Path(tempfile.mkdtemp(prefix="lotse-load-"))
    try:
        index = workdir / "index"
        shutil.copytree(source, index, ignore=shutil.ignore_patterns("ingest.lock", ".complete"))
        data: dict[str, Any] = {"machine": m, "source_index": str(source)}
        if soak_mode:
            data["soak"] = soak(index, workdir, args)
            save_result("soak", data)
            print(report_soak(data), flush=True)
        else:
            if args.phase in ("1", "both"):
                data["phase1"] = phase_ingest(index, workdir, args)
            if args.phase in ("2", "both"):
                data["phase2"] = phase_saturation(index, workdir, args)
            save_result("load", data)
            if args.phase == "both":
                print(report_load(data), flush=True)
            else:
                print(json.dumps(data, indent=2, default=str), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
