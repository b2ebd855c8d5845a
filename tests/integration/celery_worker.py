"""A real Celery worker process for tests, and waiting for a job record to finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from graph.models import JobState
from graph.repositories.jobs import JobRepository
from workers.celery_app import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
# Short, so that a message whose worker was killed is delivered again within seconds.
VISIBILITY_TIMEOUT_S = 4
# Tests that kill workers take a job idle this long for stalled: longer than the visibility
# timeout plus one restore sweep (10 s), so the broker's own redelivery comes first.
STALLED_AFTER_S = 20


class Worker:
    """A worker process; with `resend_after_s`, also what beat does for it in production:
    `bangfu.jobs.resend` sent every few seconds, taking jobs idle for `resend_after_s` as
    stalled (a SIGKILL can lose a message for good: workers/dispatch.py)."""

    def __init__(
        self,
        log_dir: Path,
        env: dict[str, str] | None = None,
        resend_after_s: int | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.resend_after_s = resend_after_s
        self._beat: threading.Thread | None = None
        self._stopping = threading.Event()

    def _send_resends(self, after_s: int) -> None:
        while not self._stopping.wait(max(1.0, after_s / 4)):
            celery_app.send_task("bangfu.jobs.resend", kwargs={"older_than_s": after_s})

    def start(self) -> None:
        if self.resend_after_s is not None and self._beat is None:
            self._stopping.clear()
            self._beat = threading.Thread(
                target=self._send_resends, args=(self.resend_after_s,), daemon=True
            )
            self._beat.start()
        self.starts += 1
        log = (self.log_dir / f"worker-{self.starts}.log").open("wb")
        env = {
            **os.environ,
            "BANGFU_WORKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
            # A worker killed while holding the broker's restore lock must not hold up
            # redelivery for long (bangfu/settings.py WorkerSettings).
            "BANGFU_WORKER_UNACKED_MUTEX_EXPIRE_S": str(VISIBILITY_TIMEOUT_S),
            # Look for such messages on every sweep (10 s apart), not every tenth.
            "BANGFU_WORKER_UNACKED_RESTORE_THROTTLE": "1",
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test{self.starts}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker and its pool process: no warm shutdown, nothing acknowledged."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self._beat is not None:
            self._stopping.set()
            self._beat.join(timeout=10)
            self._beat = None
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


def wait_for_job(jobs: JobRepository, job_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return
        time.sleep(0.5)
    job = jobs.get(job_id)
    raise AssertionError(f"job still {job.state}: {job.chunks_done}/{job.chunks_total} chunks")
