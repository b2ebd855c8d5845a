"""Sending a job's first task once the job record has committed.

The record is written first, so a worker never looks for a job that does not exist. If the
broker is unreachable at that moment the record stays 'queued' and the request that made it
still succeeds: `bangfu.jobs.resend` (every 10 minutes) sends the first task of every job left
queued longer than a message could sit unsent, which is what a redelivery would do, and every
task of a job tolerates redelivery (workers/jobs.py).

A running job can lose a message too. Kombu's Redis transport takes a message off the queue
(BRPOP) and only then records it as unacknowledged; a worker SIGKILLed in between (an OOM kill)
loses it for good, and the job waits forever for that chunk (seen in CI: one of 34 chunks gone
after two kills). So the same sweep sends the first task of every job running without
activity (no delivery, no chunk done) for `stalled_job_resend_s`: it re-enqueues the chunks
still pending, and a chunk applied meanwhile is skipped when its copy arrives. Likewise for an
assignment proposal left 'computing' with no attempt begun for as long: a new attempt computes
it, and an older one still running writes nothing (graph/repositories/matching.py).
"""

from __future__ import annotations

import logging

from celery import Celery
from kombu.exceptions import OperationalError

from verification.jobs import CROSS_CHECK
from workers.celery_app import app as celery_app
from workers.imports import IMPORT
from workers.jobs import ASSIGNMENT_ACCEPTANCE, PROJECT_SCAN, REGION_STATS, RISK_SCORING

log = logging.getLogger("bangfu.workers")

# The task that starts each kind of job (it plans the chunks, or validates an import file).
FIRST_TASKS: dict[str, str] = {
    REGION_STATS: "bangfu.stats.plan",
    RISK_SCORING: "bangfu.risk.plan",
    ASSIGNMENT_ACCEPTANCE: "bangfu.matching.accept_plan",
    PROJECT_SCAN: "bangfu.projects.scan",
    CROSS_CHECK: "bangfu.checks.run",
    IMPORT: "bangfu.imports.validate",
}


PROPOSE_TASK = "bangfu.matching.propose"


def start_job(job_id: str, kind: str, app: Celery = celery_app) -> bool:
    """Send the first task of a committed job; False (and a warning) when the broker is
    unreachable, leaving the job queued for `bangfu.jobs.resend`."""
    try:
        app.send_task(FIRST_TASKS[kind], args=[job_id])
    except OperationalError:
        log.warning(
            "job %s (%s) not sent: the broker is unreachable; it stays queued", job_id, kind
        )
        return False
    return True


def start_proposal(proposal_id: str, app: Celery = celery_app) -> bool:
    """Send the computation of a committed 'computing' assignment proposal; False (and a
    warning) when the broker is unreachable."""
    try:
        app.send_task(PROPOSE_TASK, args=[proposal_id])
    except OperationalError:
        log.warning("assignment proposal %s not sent: the broker is unreachable", proposal_id)
        return False
    return True
