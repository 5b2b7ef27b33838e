"""OpenID Connect sign-in: the authorization-code flow with PKCE, state and nonce.

Off unless `CLOSELOOP_OIDC_ISSUER` is set. The identity provider only proves who the person
is; whether they may use the console, and with which role, comes from the local identity
store (the claim named by `CLOSELOOP_OIDC_USERNAME_CLAIM`, `preferred_username` by default,
must be an enabled local user). The client secret is held here and never logged or shown.

Pending sign-ins (state -> nonce, PKCE verifier, the browser's pre-sign-in session) live in
this process's memory for ten minutes and are removed at first use, so a replayed or forged
`state` is refused. Each is bound to the browser that started it by a random value in a
short-lived HttpOnly cookie (SameSite=Lax, since the provider's redirect back is a
cross-site navigation that a SameSite=Strict session cookie would not accompany).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import errors, jwt
from joserfc.jwk import KeySet

PENDING_LIFETIME_S = 600
TIMEOUT_S = 10.0


class OidcFailed(Exception):
    """A sign-in through the identity provider that must not succeed; the text is shown."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    username_claim: str = "preferred_username"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OidcConfig | None:
        """None when OIDC is not configured; a clear error when it is half-configured."""
        env = dict(os.environ) if env is None else env
        issuer = env.get("CLOSELOOP_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        client_id = env.get("CLOSELOOP_OIDC_CLIENT_ID", "").strip()
        if not client_id:
            raise ValueError("CLOSELOOP_OIDC_CLIENT_ID: required when CLOSELOOP_OIDC_ISSUER is set")
        claim = env.get("CLOSELOOP_OIDC_USERNAME_CLAIM", "preferred_username").strip()
        if claim not in ("preferred_username", "sub", "email"):
            raise ValueError(
                "CLOSELOOP_OIDC_USERNAME_CLAIM: must be preferred_username, sub or email"
            )
        return cls(
            issuer.rstrip("/"), client_id, env.get("CLOSELOOP_OIDC_CLIENT_SECRET", ""), claim
        )


@dataclass(frozen=True)
class Pending:
    nonce: str
    verifier: str
    binding: str
    redirect_uri: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcClient:
    """Discovery, the authorization request, the token request and id-token checks."""

    def __init__(self, config: OidcConfig, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.transport = transport
        self.pending: dict[str, Pending] = {}
        self._discovery: dict[str, Any] | None = None

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=TIMEOUT_S, transport=self.transport)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._http() as http:
                response = await http.get(url)
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as failed:
            raise OidcFailed(f"the identity provider did not answer at {url}") from failed
        if not isinstance(body, dict):
            raise OidcFailed(f"the identity provider sent no JSON object at {url}")
        return body

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            found = await self._get_json(f"{self.config.issuer}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != self.config.issuer:
                raise OidcFailed("the identity provider's discovery document names another issuer")
            self._discovery = found
        return self._discovery

    async def authorization_url(self, binding: str, redirect_uri: str) -> str:
        now = time.monotonic()
        for state in [s for s, p in self.pending.items() if p.expires < now]:
            del self.pending[state]
        found = await self.discovery()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        self.pending[state] = Pending(
            nonce, verifier, binding, redirect_uri, now + PENDING_LIFETIME_S
        )
        query = {
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": redirect_uri, "scope": "openid profile", "state": state,
            "nonce": nonce, "code_challenge_method": "S256",
            "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        }  # fmt: skip
        return f"{found['authorization_endpoint']}?{urlencode(query)}"

    def take(self, state: str, binding: str | None) -> Pending:
        """The pending sign-in of this state, once; refused for another browser or late."""
        pending = self.pending.pop(state, None)
        if pending is None or pending.expires < time.monotonic():
            raise OidcFailed("unknown or already used sign-in attempt (state): sign in again")
        if not binding or not secrets.compare_digest(pending.binding, binding):
            raise OidcFailed("this sign-in attempt was started in another browser: sign in again")
        return pending

    async def claims(self, code: str, pending: Pending) -> dict[str, Any]:
        """Exchange the code and return the verified id token's claims."""
        found = await self.discovery()
        form = {
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": pending.redirect_uri, "code_verifier": pending.verifier,
        }  # fmt: skip
        auth = (self.config.client_id, self.config.client_secret)
        try:
            async with self._http() as http:
                response = await http.post(found["token_endpoint"], data=form, auth=auth)
                body = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as failed:
            raise OidcFailed("the identity provider's token endpoint did not answer") from failed
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise OidcFailed("the identity provider refused the sign-in (no id token)")
        keys = KeySet.import_key_set(await self._get_json(found["jwks_uri"]))  # type: ignore[arg-type]
        registry = jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": pending.nonce},
            sub={"essential": True},
        )
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
            registry.validate(token.claims)
        except errors.BadSignatureError as failed:
            raise OidcFailed("the id token's signature does not verify") from failed
        except errors.ExpiredTokenError as failed:
            raise OidcFailed("the id token has expired") from failed
        except errors.ClaimError as failed:
            raise OidcFailed(f"the id token's {failed.claim} claim is wrong") from failed
        except (errors.JoseError, ValueError) as failed:
            raise OidcFailed("the id token cannot be read") from failed
        return dict(token.claims)
