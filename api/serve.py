"""Serving the API with several worker processes, each on its own listening socket.

`uvicorn --workers N` shares one socket among its workers, and asyncio accepts every connection
waiting when a worker wakes: the 16 keep-alive connections of a benchmark run, opened at once,
all went to one of the two workers in some runs (bench/api_load.py, cpu_s_per_api_worker 29.7
and 0.0 CPU-seconds), leaving a core idle and halving throughput. Here each worker listens on
its own socket with SO_REUSEPORT on the same address, and the kernel spreads connections over
them by a hash of their addresses. This process supervises: it restarts a worker that dies and
stops them all on SIGTERM or SIGINT.

    python -m api.serve --host 0.0.0.0 --port 8000 --workers 2 [uvicorn options ...]

Options after the known ones go to each uvicorn worker: `--log-level`, `--no-access-log`,
`--no-proxy-headers`, `--forwarded-allow-ips`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

import uvicorn

log = logging.getLogger("bangfu.serve")

APP = "api.app:app"
# A worker that dies is started again after this pause, so one that cannot start (a broken
# setting) does not spin.
RESTART_PAUSE_S = 1.0
STOP_TIMEOUT_S = 15.0


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_worker(fd: int, app: str, uvicorn_args: list[str]) -> None:
    """One worker: uvicorn on the inherited socket (its family read from the descriptor)."""
    server = uvicorn.Server(worker_config(app, uvicorn_args))
    server.run(sockets=[socket.socket(fileno=fd)])


def worker_config(app: str, args: list[str]) -> uvicorn.Config:
    """The app's uvicorn config with the few options a deployment passes."""
    parser = argparse.ArgumentParser(prog="uvicorn worker", add_help=False)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    # As uvicorn's own command line: proxy headers on, trusted from --forwarded-allow-ips only.
    parser.add_argument("--no-proxy-headers", dest="proxy_headers", action="store_false")
    parser.add_argument("--forwarded-allow-ips", default=None)
    parsed = parser.parse_args(args)
    return uvicorn.Config(
        app,
        log_level=parsed.log_level,
        access_log=parsed.access_log,
        proxy_headers=parsed.proxy_headers,
        forwarded_allow_ips=parsed.forwarded_allow_ips,
    )


class Supervisor:
    def __init__(self, app: str, sockets: list[socket.socket], uvicorn_args: list[str]) -> None:
        self.app = app
        self.sockets = sockets
        self.uvicorn_args = uvicorn_args
        self.workers: list[subprocess.Popen[bytes]] = []
        self.stopping = False

    def start(self, sock: socket.socket) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "api.serve",
            "--worker-fd",
            str(sock.fileno()),
            "--app",
            self.app,
            *self.uvicorn_args,
        ]
        return subprocess.Popen(command, pass_fds=[sock.fileno()])  # noqa: S603 - argv built here

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.workers = [self.start(sock) for sock in self.sockets]
        while not self.stopping:
            for i, worker in enumerate(self.workers):
                if worker.poll() is not None and not self.stopping:
                    log.warning("worker %d exited with %s; starting it again", i, worker.returncode)
                    time.sleep(RESTART_PAUSE_S)
                    self.workers[i] = self.start(self.sockets[i])
            time.sleep(0.2)
        for worker in self.workers:
            worker.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for worker in self.workers:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--app", default=APP)
    parser.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)
    args, uvicorn_args = parser.parse_known_args(argv)
    if args.worker_fd is not None:
        run_worker(args.worker_fd, args.app, uvicorn_args)
        return 0
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sockets = [listening_socket(args.host, args.port) for _ in range(args.workers)]
    return Supervisor(args.app, sockets, uvicorn_args).run()


if __name__ == "__main__":
    sys.exit(main())
