from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import TokenGrant
from api.deps import AuthServiceDep, ClientIp, CurrentPrincipal, RequestId
from bangfu.access import Principal

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenGrant)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    auth: AuthServiceDep,
    ip: ClientIp,
    rid: RequestId,
    response: Response,
) -> TokenGrant:
    """OAuth2 password flow: form fields `username` and `password`, answers a bearer token."""
    # Token responses must not be cached by browsers or proxies (RFC 6749 section 5.1).
    response.headers["Cache-Control"] = "no-store"
    return auth.login(form.username, form.password, ip, rid)


@router.get("/me", response_model=Principal)
def me(principal: CurrentPrincipal) -> Principal:
    """The signed-in caller: role, region or helper (never the password hash)."""
    return principal
