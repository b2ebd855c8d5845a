"""Entry points: the Celery app and its tasks. Thin."""
