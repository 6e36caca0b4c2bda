"""What the benchmarks that drive the real stack share (check-in load and rate, meals, faults).

A PostgreSQL database of their own (created, migrated, dropped), gunicorn on a free port with
the environment they all give it, a private Redis, logging in, the check-in world (a provider,
caregivers with published visits today), check-in requests with their own JPEG, an open-loop
HTTP/1.1 client, and the CPU the processes of a run used. The scripts keep what they measure;
this module only sets the stage.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from alembic import command
from alembic.config import Config
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dispatch.models import (
    BillingUnit,
    Caregiver,
    Client,
    Gender,
    Provider,
    Role,
    ServiceType,
    User,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.security import hash_password

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-" + uuid.uuid4().hex[:8]
HOME = (29.3069, 120.0763)


def admin_url() -> str:
    """The server the scripts create their databases on (``BENCH_PG_ADMIN_URL``; the fault
    script for PostgreSQL points it at its private cluster)."""
    return os.environ.get(
        "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the database ---------------------------------------------------------------------------


def create_database(prefix: str = "cdbench") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, "head")


def seed_checkins(url: str, caregivers: int, visits: int) -> list[tuple[str, list[int]]]:
    """One provider, ``caregivers`` caregivers with ``visits`` published visits each, today;
    answers (username, visit ids) per caregiver. Every caregiver's password is ``PASSWORD``."""
    engine = create_engine(url)
    today = datetime.now(UTC)
    start = today.replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 Shanghai
    pw = hash_password(PASSWORD)
    out: list[tuple[str, list[int]]] = []
    with Session(engine) as s:
        provider = Provider(code="BENCH", name="压测服务中心", district="义乌市")
        service = ServiceType(
            code="CLEAN", name="助洁", default_duration_min=60, photo_required=True,
            billing_unit=BillingUnit.hour, rate=Decimal("40.00"),
        )  # fmt: skip
        s.add_all([provider, service])
        s.flush()
        for c in range(caregivers):
            cg = Caregiver(
                provider_id=provider.id, code=f"CG{c:04d}", name=f"护理员{c}",
                gender=Gender.female, home_lat=29.31, home_lon=120.07,
            )  # fmt: skip
            s.add(cg)
            s.flush()
            user = User(
                username=f"bench_cg{c}", password_hash=pw, role=Role.caregiver,
                provider_id=provider.id, caregiver_id=cg.id,
            )  # fmt: skip
            s.add(user)
            ids = []
            for v in range(visits):
                client = Client(
                    provider_id=provider.id, code=f"C{c:04d}_{v}", name="王秀英",
                    address="宾王路 88号", lat=HOME[0] + v * 0.001, lon=HOME[1],
                )  # fmt: skip
                s.add(client)
                s.flush()
                visit = Visit(
                    provider_id=provider.id, client_id=client.id, service_type_id=service.id,
                    date=today.date(), window_start_at=start + timedelta(hours=v),
                    window_end_at=start + timedelta(hours=v + 2), duration_min=60,
                    status=VisitStatus.published, planned_start_at=start + timedelta(hours=v),
                    sequence=v + 1,
                )  # fmt: skip
                visit.assignments = [VisitAssignment(caregiver_id=cg.id, sequence=v + 1)]
                s.add(visit)
                s.flush()
                ids.append(visit.id)
            out.append((user.username, ids))
        s.commit()
    engine.dispose()
    return out


# --- the servers ----------------------------------------------------------------------------


def server_env(
    url: str, photos: Path, *, redis_url: str | None = None, queue: str | None = None
) -> dict[str, str]:
    """The environment of gunicorn (and a worker) on ``url``: jobs inline unless a Redis is
    given, photos under ``photos``, a fresh secret."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "PHOTO_DIR": str(photos),
        "CAREDISPATCH_DEMO": "0",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CAREDISPATCH_QUEUE"] = queue or f"bench-{uuid.uuid4().hex[:8]}"
    return env


def gunicorn_command(
    port: int, workers: int = 2, threads: int = 4, worker_class: str | None = None
) -> list[str]:
    """The serving command of the README's production section, on 127.0.0.1:``port``."""
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
        *(("--worker-class", worker_class) if worker_class else ()),
        *("--timeout", "120", "--no-control-socket", "wsgi:app"),
    ]


def start_gunicorn(
    env: dict[str, str],
    port: int,
    log: BinaryIO,
    *,
    workers: int = 2,
    threads: int = 4,
    worker_class: str | None = None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        gunicorn_command(port, workers, threads, worker_class),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_worker(env: dict[str, str], log: BinaryIO, *, own_session: bool = False) -> Any:
    """``python -m dispatch.cli worker``; ``own_session``: in a process group of its own."""
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "dispatch.cli", "worker"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=own_session,
    )  # fmt: skip


def stop(procs: Iterable[subprocess.Popen[bytes] | None]) -> None:
    """SIGTERM every process still running, then wait for each (SIGKILL after 30 s)."""
    live = [p for p in procs if p is not None]
    for proc in live:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in live:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A private redis-server on ``port`` (no persistence), answering PING."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redis_ping(port):
            return proc
        time.sleep(0.05)
    raise RuntimeError("the private redis-server did not start")


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- talking to it --------------------------------------------------------------------------


def wait_healthy(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not become healthy in time")


def login(port: int, username: str, password: str = PASSWORD) -> str:
    status, data = post_json(
        port, "/api/v1/auth/login", None, {"username": username, "password": password}
    )
    if status != 200:
        raise RuntimeError(f"login failed: {status} {data}")
    return str(data["access_token"])


def post_json(
    port: int, path: str, token: str | None, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def get_json(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


# --- check-in requests ----------------------------------------------------------------------


def make_jpeg(i: int) -> bytes:
    """A 320x240 noisy JPEG (~20-30 KB), different for every ``i``."""
    rnd = random.Random(i)
    img = Image.effect_noise((320, 240), 40).convert("RGB")
    img.putpixel((rnd.randrange(320), rnd.randrange(240)), (255, 0, i % 256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def multipart(parts: dict[str, tuple[str | None, str, bytes]]) -> tuple[str, bytes]:
    """Encode {name: (filename or None, content type, bytes)} as multipart/form-data."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, (filename, ctype, data) in parts.items():
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.write(f"Content-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", out.getvalue()


def event(visit_minute: int, key: str, **kw: Any) -> bytes:
    """A check-in or check-out's JSON, ``visit_minute`` minutes after 09:00 Shanghai today."""
    when = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    body = {
        "idempotency_key": key,
        "device_time": (when + timedelta(minutes=visit_minute)).isoformat(),
        "lat": HOME[0],
        "lon": HOME[1],
        "accuracy_m": 15.0,
        "device_id": "bench",
    }
    body.update(kw)
    return json.dumps(body).encode()


def raw_request(path: str, token: str, ctype: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def checkin_requests(
    routes: list[tuple[str, list[int]]], tokens: dict[str, str], total: int
) -> tuple[list[bytes], list[str]]:
    """One check-in per visit with its own photo, interleaved across caregivers as a day's
    arrivals are, at most ``total``, as raw HTTP/1.1 requests; and their idempotency keys."""
    requests: list[bytes] = []
    keys: list[str] = []
    for v in range(max((len(ids) for _, ids in routes), default=0)):
        for username, visit_ids in routes:
            if v < len(visit_ids) and len(requests) < total:
                key = str(uuid.uuid4())
                ctype, body = multipart(
                    {
                        "event": (None, "application/json", event(v * 60 + 5, key)),
                        "photo": ("p.jpg", "image/jpeg", make_jpeg(len(requests))),
                    }
                )
                path = f"/api/v1/visits/{visit_ids[v]}/check-in"
                requests.append(raw_request(path, tokens[username], ctype, body))
                keys.append(key)
    return requests, keys


class Pool:
    """Keep-alive HTTP/1.1 connections to one port; a new one whenever all are busy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def request(self, raw: bytes) -> int:
        reused = bool(self.idle)
        if reused:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.opened += 1
        try:
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
        except OSError:
            status_line = b""
        if not status_line and reused:
            # The server closed this idle keep-alive connection: send again on a new one.
            writer.close()
            return await self.fresh(raw)
        length, close = 0, False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await reader.readexactly(length)
        if close or not status_line:
            writer.close()
        else:
            self.idle.append((reader, writer))
        return int(status_line.split()[1]) if status_line else 0

    async def fresh(self, raw: bytes) -> int:
        """Drop the idle connections (the server timed them out too) and send on a new one."""
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()
        return await self.request(raw)


# --- where the CPU went ---------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_s(pids: Iterable[int]) -> float:
    """User + system CPU seconds the live processes ``pids`` used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving the database at ``url`` (a local server)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        mine = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        out = [int(p) for p in pids if p != mine]
    engine.dispose()
    return out


class CpuMeter:
    """CPU seconds used between ``start`` and ``stop`` by gunicorn (master and workers), the
    PostgreSQL backends of the run's database, and this process (the load generator).
    PostgreSQL's shared processes (WAL writer, checkpointer) are not counted."""

    def __init__(self, gunicorn_pid: int, url: str) -> None:
        self.gunicorn_pid, self.url = gunicorn_pid, url
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _now(self, backends: list[int]) -> dict[str, float]:
        times = os.times()
        return {
            "gunicorn": cpu_s([self.gunicorn_pid, *descendants(self.gunicorn_pid)]),
            "postgres": cpu_s(backends),
            "generator": times.user + times.system,
        }

    def start(self) -> None:
        self.before = self._now(backend_pids(self.url))

    def stop(self) -> dict[str, float]:
        """Seconds used per part since ``start`` (backends opened meanwhile count whole)."""
        after = self._now(backend_pids(self.url))
        self.used = {k: round(max(0.0, after[k] - self.before.get(k, 0.0)), 2) for k in after}
        return self.used
