"""One Neo4j driver per process, and the small client every repository goes through.

Reads are routed as reads, each one query in an auto-commit transaction retried here on
transient errors; writes go through managed transactions (`execute_write`, retried by the
driver); every transaction runs under a timeout, and driver exceptions become the project's own
so nothing above graph/ sees `neo4j.exceptions`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import neo4j
from neo4j import GraphDatabase, ManagedTransaction
from neo4j import exceptions as neo4j_errors

from bangfu.errors import (
    ConflictError,
    GraphBusyError,
    GraphTimeoutError,
    GraphUnavailableError,
    InvalidInputError,
)
from bangfu.settings import Neo4jSettings, get_settings

Row = dict[str, Any]
T = TypeVar("T")

# A read is one query, so it needs no BEGIN and COMMIT: an auto-commit transaction sends RUN and
# PULL in one round trip. Measured from Python, 2 threads, RETURN 1: 0.44 -> 0.21 ms of Neo4j
# CPU and 0.54 -> 0.32 ms of Python CPU per read. The driver retries only managed transactions,
# so a read retries transient failures itself, this many times, backing off 50 ms, 100 ms.
READ_ATTEMPTS = 3
READ_BACKOFF_S = 0.05


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver errors into bangfu errors with messages safe to show (no query parameters)."""
    try:
        yield
    except neo4j_errors.AuthError:
        raise GraphUnavailableError(
            "Neo4j refused the credentials: check BANGFU_NEO4J_PASSWORD",
            message_zh="图数据库拒绝了登录凭据",
        ) from None
    except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, OSError) as exc:
        raise GraphUnavailableError(
            f"Neo4j is not reachable ({type(exc).__name__}): is it running? try `make up`",
            message_zh="无法连接图数据库",
        ) from None
    except neo4j_errors.ClientError as exc:
        if exc.code and "TransactionTimedOut" in exc.code:
            raise GraphTimeoutError("the database operation took too long") from None
        if exc.code == "Neo.ClientError.Schema.ConstraintValidationFailed":
            raise ConflictError("a record with the same key already exists") from None
        raise
    except neo4j_errors.TransientError as exc:
        if exc.code and "TransactionTimedOut" in exc.code:
            raise GraphTimeoutError("the database operation took too long") from None
        # Deadlocks and lock timeouts that outlived the driver's own retries.
        raise GraphBusyError("the database is busy; try again") from None


class GraphClient:
    def __init__(self, settings: Neo4jSettings) -> None:
        self.settings = settings
        self.database = settings.database
        self.timeout_s = settings.transaction_timeout_s
        self.driver = GraphDatabase.driver(
            settings.uri,
            auth=(settings.user, settings.password.get_secret_value()),
            connection_timeout=settings.connection_timeout_s,
            max_connection_pool_size=settings.max_pool_size,
            # Fail fast when Neo4j is down instead of retrying for the driver's default 30 s.
            max_transaction_retry_time=5.0,
            # Schema hints ("unknown relationship type" on an empty graph) are noise in logs.
            notifications_min_severity="OFF",
        )

    def close(self) -> None:
        self.driver.close()

    def verify(self) -> str:
        """Check connectivity and credentials; return the server's agent string."""
        with translated_errors():
            self.driver.verify_connectivity()
            return str(self.driver.get_server_info().agent)

    def _session(self, access: str) -> neo4j.Session:
        return self.driver.session(database=self.database, default_access_mode=access)

    def read(self, query: str, timeout_s: float | None = None, **params: Any) -> list[Row]:
        statement = neo4j.Query(query, timeout=timeout_s or self.timeout_s)
        attempt = 1
        with translated_errors():
            while True:
                try:
                    with self._session(neo4j.READ_ACCESS) as session:
                        return [record.data() for record in session.run(statement, params)]
                except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
                    if attempt == READ_ATTEMPTS or not exc.is_retryable():
                        raise
                time.sleep(READ_BACKOFF_S * attempt)
                attempt += 1

    def read_one(self, query: str, **params: Any) -> Row | None:
        rows = self.read(query, **params)
        return rows[0] if rows else None

    def write(self, query: str, timeout_s: float | None = None, **params: Any) -> list[Row]:
        def work(tx: ManagedTransaction) -> list[Row]:
            return [record.data() for record in tx.run(query, params)]

        work = neo4j.unit_of_work(timeout=timeout_s or self.timeout_s)(work)
        with translated_errors(), self._session(neo4j.WRITE_ACCESS) as session:
            return session.execute_write(work)

    def run_write(
        self, work: Callable[[ManagedTransaction], T], timeout_s: float | None = None
    ) -> T:
        """Run a transaction function (from a repository) as a managed write transaction."""
        unit = neo4j.unit_of_work(timeout=timeout_s or self.timeout_s)(work)
        with translated_errors(), self._session(neo4j.WRITE_ACCESS) as session:
            return session.execute_write(unit)

    def write_counted(
        self, query: str, expected: int, what: str, timeout_s: float | None = None, **params: Any
    ) -> None:
        """Run a write whose query returns `count(*) AS written`; roll it back unless it wrote
        exactly `expected` rows, so a batch with a dangling reference leaves nothing behind."""

        def work(tx: ManagedTransaction) -> int:
            record = tx.run(query, params).single()
            written = 0 if record is None else int(record["written"])
            if written != expected:
                raise InvalidInputError(
                    f"{what}: {expected - written} of {expected} rows refer to records that do "
                    "not exist; nothing was written",
                    message_zh=(
                        f"{what}：{expected - written}/{expected} 行引用了不存在的记录，已全部撤销"
                    ),
                )
            return written

        work = neo4j.unit_of_work(timeout=timeout_s or self.timeout_s)(work)
        with translated_errors(), self._session(neo4j.WRITE_ACCESS) as session:
            session.execute_write(work)


_lock = threading.Lock()
_client: GraphClient | None = None


def get_graph() -> GraphClient:
    """The process-wide client (one driver per process), created on first use."""
    global _client  # noqa: PLW0603 - the one process-wide driver
    with _lock:
        if _client is None:
            _client = GraphClient(get_settings().neo4j)
        return _client


def close_graph() -> None:
    global _client  # noqa: PLW0603
    with _lock:
        if _client is not None:
            _client.close()
            _client = None
