"""Optional TOTP second factor (RFC 6238, 30 s steps, 6 digits) with pyotp."""

from __future__ import annotations

import pyotp


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (shown once, at enrolment)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Closeloop")


def verify(secret: str, code: str) -> bool:
    """Accept the current code and the one either side of it (clock drift)."""
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()
