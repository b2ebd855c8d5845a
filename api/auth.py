"""Logins: argon2 password hashes, short-lived HS256 access tokens, throttled attempts.

A wrong username and a wrong password get the same answer, and an unknown username costs the same
argon2 work as a known one, so neither the message nor the timing tells which accounts exist.
Every token is checked against the stored user on each request: a deactivated user's tokens stop
working at once. Passwords and tokens are never logged and never put in an error or audit event.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, SecretStr

from api.audit import AuditTrail
from api.rate_limit import Decision, LoginThrottle
from bangfu.access import Principal
from bangfu.errors import AuthenticationError, InvalidInputError, NotFoundError, RateLimitedError
from bangfu.settings import AuthSettings
from graph.models import AuditOutcome, User, UserAccess
from graph.repositories.audit import AuditRepository
from graph.repositories.users import UserRepository

log = logging.getLogger("bangfu.auth")

MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length; the cap keeps one login request from costing unbounded work.
MAX_PASSWORD_LENGTH = 256
JWT_ALGORITHM = "HS256"

_hasher = PasswordHasher()


def check_password_rules(password: SecretStr) -> None:
    length = len(password.get_secret_value())
    if length < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            message_zh=f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
        )
    if length > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"password must have at most {MAX_PASSWORD_LENGTH} characters",
            message_zh=f"密码最多 {MAX_PASSWORD_LENGTH} 个字符",
        )


def hash_password(password: SecretStr) -> SecretStr:
    return SecretStr(_hasher.hash(password.get_secret_value()))


def verify_password(password_hash: SecretStr, password: str) -> bool:
    try:
        return _hasher.verify(password_hash.get_secret_value(), password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> SecretStr:
    """A hash to verify against when the username is unknown, so that case costs the same."""
    return hash_password(SecretStr(uuid.uuid4().hex))


class TokenGrant(BaseModel):
    """The OAuth2 token response."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int


def issue_token(user: User, settings: AuthSettings, now: datetime | None = None) -> TokenGrant:
    """A signed access token for `user`, valid for settings.access_token_minutes from `now`."""
    issued = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": user.id,
        "role": user.role.value,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + lifetime,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return TokenGrant(access_token=token, expires_in=int(lifetime.total_seconds()))


def _bad_token(reason: str) -> AuthenticationError:
    return AuthenticationError(
        f"not signed in: {reason}; request a new token at /api/v1/auth/token",
        message_zh="未登录或登录已过期，请重新登录",
    )


def _bad_credentials() -> AuthenticationError:
    return AuthenticationError("wrong username or password", message_zh="用户名或密码错误")


def _throttled(decision: Decision) -> RateLimitedError:
    return RateLimitedError(
        f"too many login attempts; try again in {decision.retry_after_s} s",
        retry_after_s=decision.retry_after_s,
        message_zh=f"登录尝试次数过多，请 {decision.retry_after_s} 秒后再试",
    )


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return username.strip().lower()


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        audit: AuditRepository,
        throttle: LoginThrottle,
        settings: AuthSettings,
    ) -> None:
        self.users = users
        self.audit = audit
        self.throttle = throttle
        self.settings = settings

    def login(self, username: str, password: str, client_ip: str, request_id: str) -> TokenGrant:
        """Check a username and password and issue a token, under both throttles."""
        trail = AuditTrail(self.audit, request_id=request_id)
        name = normalise_username(username)
        by_ip = self.throttle.attempt_from(client_ip)
        if not by_ip.allowed:
            if by_ip.just_tripped:
                trail.denied("login", "client", None, reason="rate_limited_ip")
            log.info("login refused: address over its attempt limit")
            raise _throttled(by_ip)
        user = self.users.by_username(name)
        subject_id = user.id if user is not None else None
        by_account = self.throttle.attempt_on(name)
        if not by_account.allowed:
            if by_account.just_tripped:
                trail.denied("login", "user", subject_id, reason="rate_limited_account")
            log.info("login refused: account over its failure limit")
            raise _throttled(by_account)
        if len(password) > MAX_PASSWORD_LENGTH:
            # No stored password is this long: refuse without paying for the hash.
            trail.denied("login", "user", subject_id, reason="bad_credentials")
            raise _bad_credentials()
        if user is None:
            verify_password(_dummy_hash(), password)
            trail.denied("login", "user", None, reason="bad_credentials")
            raise _bad_credentials()
        if not verify_password(user.password_hash, password):
            trail.denied("login", "user", user.id, reason="bad_credentials")
            raise _bad_credentials()
        if not user.active:
            # The same answer as a wrong password: a disabled login reveals nothing more.
            trail.denied("login", "user", user.id, reason="inactive")
            raise _bad_credentials()
        self.throttle.succeeded(name)
        if _hasher.check_needs_rehash(user.password_hash.get_secret_value()):
            self.users.set_password_hash(user.id, hash_password(SecretStr(password)))
        principal = principal_of(self.users.access(user.id))
        AuditTrail(self.audit, principal=principal, request_id=request_id).record(
            "login", "user", user.id, outcome=AuditOutcome.OK
        )
        log.info("login ok: user %s", user.id)
        return issue_token(user, self.settings)

    def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for; AuthenticationError when it is expired,
        forged, or its user is gone, deactivated or no longer has the token's role."""
        try:
            claims = jwt.decode(
                token,
                self.settings.jwt_secret.get_secret_value(),
                algorithms=[JWT_ALGORITHM],
                options={"require": ["sub", "role", "jti", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise _bad_token("the token has expired") from None
        except jwt.PyJWTError:
            raise _bad_token("the token is not valid") from None
        return self.principal_by_id(str(claims["sub"]), str(claims["role"]))

    def principal_by_id(self, user_id: str, role: str) -> Principal:
        """The principal of a token's or a web-page session's user, who must still exist, be
        active and have the role the token or session was issued for."""
        try:
            access = self.users.access(user_id)
        except NotFoundError:
            raise _bad_token("the user no longer exists") from None
        if not access.user.active:
            raise _bad_token("the user is deactivated")
        if role != access.user.role.value:
            raise _bad_token("the user's role has changed")
        return principal_of(access)


def principal_of(access: UserAccess) -> Principal:
    """A helper login whose helper is gone has no service regions, so it sees nothing."""
    user = access.user
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        region_code=user.region_code,
        helper_id=user.helper_id,
        service_regions=access.service_regions if user.role.is_helper else (),
    )
