"""The Celery app on the Redis broker. Tasks arrive with the workers issue; the settings that
make delivery safe are here from the start."""

from __future__ import annotations

from celery import Celery

from bangfu.settings import get_settings

_redis_url = get_settings().redis.url

app = Celery("bangfu", broker=_redis_url)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Longer than any task may run (imports of a province file take minutes, not hours).
    broker_transport_options={"visibility_timeout": 4 * 3600},
    task_serializer="json",
    accept_content=["json"],
    timezone="Asia/Shanghai",
)
