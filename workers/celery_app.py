"""The Celery app on the Redis broker, configured so that no task is lost or run twice in
effect: late acknowledgement (a message is acknowledged after its task ran), re-queue when a
worker process dies, one message prefetched at a time, and a visibility timeout longer than
any task. Tasks have stable dotted names and take ids only."""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from bangfu.settings import get_settings

_settings = get_settings()

app = Celery("bangfu", broker=_settings.redis.url, include=["workers.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={
        "visibility_timeout": _settings.workers.visibility_timeout_s,
        "unacked_mutex_expire": _settings.workers.unacked_mutex_expire_s,
        "unacked_restore_throttle": _settings.workers.unacked_restore_throttle,
    },
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
    # Outcomes live in Neo4j job records (GET /api/v1/jobs/{id}); no result backend needed.
    task_ignore_result=True,
    timezone="Asia/Shanghai",
    beat_schedule={
        # Nightly, in the quiet hours (China time).
        "market-tick": {"task": "bangfu.market.tick", "schedule": crontab(hour=2, minute=0)},
        "region-stats": {
            "task": "bangfu.stats.nightly",
            "schedule": crontab(hour=3, minute=0),
        },
        # The province scores in ~1 minute on 2 cores (bench/risk.py); the sweep an hour later
        # picks up whatever the night left unscored.
        "risk-scoring": {"task": "bangfu.risk.nightly", "schedule": crontab(hour=4, minute=0)},
        "risk-sweep": {"task": "bangfu.risk.sweep", "schedule": crontab(hour=5, minute=0)},
        # Recommendations shown, from the API's Redis buffer into the graph.
        "matching-shown": {
            "task": "bangfu.matching.record_shown",
            "schedule": crontab(minute="*/5"),
        },
        # Weekly: outcomes accrue over weeks (a claim is fulfilled in ~20 days on average).
        "matching-learn": {
            "task": "bangfu.matching.learn",
            "schedule": crontab(hour=4, minute=30, day_of_week="sunday"),
        },
        # Jobs recorded while the broker was down, and running jobs that lost a message
        # (workers/dispatch.py).
        "jobs-resend": {"task": "bangfu.jobs.resend", "schedule": crontab(minute="*/10")},
        # After the statistics: the project checks, county by county, flags stored per county.
        "project-scan": {
            "task": "bangfu.projects.scan",
            "schedule": crontab(hour=3, minute=30),
        },
    },
)
