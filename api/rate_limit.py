"""Login throttling in Redis, shared by every API process.

Fixed windows counted with INCR: the first hit of a window sets its expiry, so the count and the
window live and die together in Redis and a restart of the API forgets nothing. Counters are
reserved before the password is checked, so concurrent guesses cannot slip past the limit.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import redis

from bangfu.errors import ServiceUnavailableError
from bangfu.settings import AuthSettings, get_settings

KEY_PREFIX = "bangfu:auth:"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int
    # True for the one attempt that crossed the limit in this window: the moment worth an audit
    # event (recording every refused attempt would let a flood write the audit trail).
    just_tripped: bool


class RateLimiter:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        """Count one attempt against `key`; allowed while the window's count is within `limit`."""
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_s, nx=True)
                pipe.pttl(key)
                count, _, pttl = pipe.execute()
        except redis.RedisError:
            raise _unavailable() from None
        # Rounded up: a client that waits Retry-After seconds must find the window over.
        retry = -(-int(pttl) // 1000) if int(pttl) > 0 else window_s
        return Decision(
            allowed=int(count) <= limit, retry_after_s=retry, just_tripped=int(count) == limit + 1
        )

    def clear(self, key: str) -> None:
        try:
            self.client.delete(key)
        except redis.RedisError:
            raise _unavailable() from None


def _unavailable() -> ServiceUnavailableError:
    # Fail closed: without the counters, logins would be open to unlimited guessing.
    return ServiceUnavailableError(
        "login throttling is unavailable (Redis cannot be reached); try again shortly",
        message_zh="登录限流服务不可用，请稍后再试",
    )


class LoginThrottle:
    """Per client address: every attempt counts. Per account: failed attempts count, a success
    clears them. Accounts are keyed by a hash of the username (names that do not exist are
    throttled the same way, so a 429 does not reveal which accounts exist)."""

    def __init__(self, limiter: RateLimiter, settings: AuthSettings) -> None:
        self.limiter = limiter
        self.settings = settings

    @staticmethod
    def account_key(username: str) -> str:
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}account:{digest}"

    @staticmethod
    def ip_key(client_ip: str) -> str:
        return f"{KEY_PREFIX}ip:{client_ip}"

    def attempt_from(self, client_ip: str) -> Decision:
        s = self.settings
        return self.limiter.hit(
            self.ip_key(client_ip), s.login_attempts_per_ip, s.login_ip_window_s
        )

    def attempt_on(self, username: str) -> Decision:
        """Reserve one failure for the account; `succeeded` gives it back."""
        s = self.settings
        return self.limiter.hit(
            self.account_key(username), s.login_failures_per_account, s.login_failure_window_s
        )

    def succeeded(self, username: str) -> None:
        self.limiter.clear(self.account_key(username))


_lock = threading.Lock()
_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    """The process-wide Redis client (it pools its own connections), created on first use."""
    global _client  # noqa: PLW0603 - one pool per process
    with _lock:
        if _client is None:
            _client = redis.Redis.from_url(
                get_settings().redis.url, socket_timeout=2.0, socket_connect_timeout=2.0
            )
        return _client


def login_throttle() -> LoginThrottle:
    return LoginThrottle(RateLimiter(get_redis()), get_settings().auth)
