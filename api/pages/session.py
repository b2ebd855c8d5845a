"""Web-page sessions: an opaque random id in an HttpOnly cookie, the session itself in Redis.

The cookie holds 256 random bits and nothing else; Redis keeps, under the id's SHA-256 (so a
read of Redis does not yield usable cookies), the user id, role and the session's CSRF token.
A session ends after `session_idle_minutes` without a request (each request slides the expiry)
or at logout, which deletes it. The principal is rebuilt from the stored user on every request
(AuthService.principal_by_id), so a deactivated user or a changed role ends the session at once,
as it does for bearer tokens.

CSRF: every form carries a token that must equal the session's (session-bound); before login
the login form's token must equal a random pre-login cookie (double submit). Both cookies are
HttpOnly and SameSite=Lax; the token reaches the page only inside the rendered form.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import redis

from bangfu.errors import ServiceUnavailableError

SESSION_COOKIE = "bangfu_session"
LOGIN_CSRF_COOKIE = "bangfu_login_csrf"
KEY_PREFIX = "bangfu:session:"


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    role: str
    csrf_token: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, submitted: str | None) -> bool:
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def _key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "the session store is unavailable; try again shortly",
        message_zh="会话服务暂不可用，请稍后再试",
    )


class SessionStore:
    def __init__(self, client: redis.Redis, idle_seconds: int) -> None:
        self.client = client
        self.idle_seconds = idle_seconds

    def create(self, user_id: str, role: str) -> Session:
        session = Session(
            session_id=new_token(), user_id=user_id, role=role, csrf_token=new_token()
        )
        value = json.dumps({"user_id": user_id, "role": role, "csrf": session.csrf_token})
        try:
            self.client.set(_key(session.session_id), value, ex=self.idle_seconds)
        except redis.RedisError:
            raise _unavailable() from None
        return session

    def load(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value (its expiry slides), or None."""
        if not session_id or len(session_id) > 100:
            return None
        key = _key(session_id)
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.expire(key, self.idle_seconds, xx=True)
                raw, _ = pipe.execute()
        except redis.RedisError:
            raise _unavailable() from None
        if raw is None:
            return None
        data = json.loads(raw)
        return Session(
            session_id=session_id,
            user_id=str(data["user_id"]),
            role=str(data["role"]),
            csrf_token=str(data["csrf"]),
        )

    def delete(self, session_id: str) -> None:
        try:
            self.client.delete(_key(session_id))
        except redis.RedisError:
            raise _unavailable() from None
