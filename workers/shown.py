"""Recommendations shown, buffered in Redis by the API and recorded in Neo4j by a worker.

Recording in the request would add a write transaction to every ranking (p95 ~30 ms today); a
Redis RPUSH costs well under a millisecond. The worker (`bangfu.matching.record_shown`, every
5 minutes) moves the buffer into the graph oldest first; an entry leaves the buffer only after
its batch committed, so a crash in between records it again (the pair nodes are merged, only
their `times` counter over-counts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import lru_cache

import redis

from bangfu.settings import get_settings
from graph.models import ShownPair
from graph.repositories.matching import MatchingRepository

KEY = "bangfu:matching:shown"
# With no worker running the buffer stops growing here: ~2 KB an entry (10 pairs), ~100 MB.
MAX_ENTRIES = 50_000
log = logging.getLogger("bangfu.matching")


class ShownBuffer:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def push(self, pairs: Sequence[ShownPair]) -> None:
        """Buffer one showing; never fails the request that showed it."""
        entry = json.dumps([p.model_dump(mode="json") for p in pairs], ensure_ascii=False)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.rpush(KEY, entry)
            pipe.ltrim(KEY, -MAX_ENTRIES, -1)
            pipe.execute()
        except redis.RedisError:
            log.warning("%d shown recommendations not buffered: Redis unreachable", len(pairs))

    def record(self, repo: MatchingRepository, batch: int = 500) -> int:
        """Move every buffered showing into the graph; returns the pairs recorded."""
        recorded = 0
        while True:
            raw = self.client.lrange(KEY, 0, batch - 1)
            if not raw:
                return recorded
            pairs = [ShownPair.model_validate(p) for entry in raw for p in json.loads(entry)]
            repo.record_shown(pairs)
            self.client.ltrim(KEY, len(raw), -1)
            recorded += len(pairs)

    def pending(self) -> int:
        return int(self.client.llen(KEY))


@lru_cache(maxsize=1)
def shown_buffer() -> ShownBuffer:
    """One client (and connection pool) per process."""
    client = redis.Redis.from_url(
        get_settings().redis.url, socket_timeout=2.0, socket_connect_timeout=2.0
    )
    return ShownBuffer(client)
