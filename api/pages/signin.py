"""Signing in and out of the web pages with the API's accounts: the API's own login (throttles,
argon2, audit) issues a token, whose principal then gets a server-side session."""

from __future__ import annotations

from dataclasses import dataclass

from api.audit import AuditTrail
from api.auth import AuthService
from api.pages.session import Session, SessionStore
from bangfu.access import Principal
from bangfu.errors import AuthenticationError
from graph.repositories.audit import AuditRepository


@dataclass(frozen=True)
class SignIn:
    """A session and its principal, or the message for the login form."""

    session: Session | None = None
    principal: Principal | None = None
    message_en: str = ""
    message_zh: str = ""


class PageSignIn:
    def __init__(self, auth: AuthService, sessions: SessionStore, audit: AuditRepository) -> None:
        self.auth = auth
        self.sessions = sessions
        self.audit = audit

    def sign_in(self, username: str, password: str, client_ip: str, request_id: str) -> SignIn:
        """Wrong credentials come back as the form's message (the same one for an unknown user,
        a wrong password or a disabled login); throttling still raises (the 429 page)."""
        try:
            grant = self.auth.login(username, password, client_ip, request_id)
        except AuthenticationError as exc:
            return SignIn(message_en=exc.message, message_zh=exc.message_zh)
        principal = self.auth.authenticate(grant.access_token)
        session = self.sessions.create(principal.user_id, principal.role.value)
        return SignIn(session=session, principal=principal)

    def sign_out(self, session: Session, principal: Principal, request_id: str) -> None:
        self.sessions.delete(session.session_id)
        AuditTrail(self.audit, principal=principal, request_id=request_id).record(
            "logout", "user", principal.user_id
        )
