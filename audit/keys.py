"""Where the checkpoint signing key comes from, and which public keys a verifier trusts.

`CLOSELOOP_AUDIT_SIGNING_KEY` holds either the PKCS#8 PEM text itself (for secret stores
that inject environment variables) or a path to a PEM file. When it is unset the key lives
at `CLOSELOOP_HOME/keys/audit-signing-key.pem`, created (mode 0600) the first time a
checkpoint is signed. Key material is never logged or printed; only the public key and its
key id are.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.signing import load_or_create_signing_key, load_private_key_pem, load_public_key_pem

DEFAULT_KEY_FILE = Path("keys") / "audit-signing-key.pem"


class KeyConfigError(ValueError):
    """The configured key is missing or unreadable; the message says which and where."""


def default_key_path(home: Path) -> Path:
    return home / DEFAULT_KEY_FILE


def signing_key(configured: str | None, home: Path, *, create: bool) -> Ed25519PrivateKey | None:
    """The signing key from configuration or from `home`.

    With `create`, a missing default key file is generated; without it (commands that only
    verify), a missing default key gives None. A configured key that cannot be loaded is
    always an error: silently signing with another key would split the log's identity.
    """
    if configured:
        if configured.lstrip().startswith("-----BEGIN"):
            try:
                return load_private_key_pem(configured.strip().encode("ascii"))
            except ValueError as exc:
                raise KeyConfigError(
                    f"CLOSELOOP_AUDIT_SIGNING_KEY holds PEM text that is not an Ed25519 "
                    f"private key: {exc}"
                ) from None
        return _load_file(Path(configured).expanduser(), "CLOSELOOP_AUDIT_SIGNING_KEY")
    path = default_key_path(home)
    if create:
        return load_or_create_signing_key(path)
    if not path.exists():
        return None
    return _load_file(path, "the default signing key")


def _load_file(path: Path, what: str) -> Ed25519PrivateKey:
    try:
        return load_private_key_pem(path.read_bytes())
    except FileNotFoundError:
        raise KeyConfigError(f"{what} names {path}, which does not exist") from None
    except (OSError, ValueError) as exc:
        raise KeyConfigError(f"{what} at {path} is not a usable Ed25519 key: {exc}") from None


def load_public_key_file(path: Path) -> Ed25519PublicKey:
    """An auditor's copy of the public key (what `closeloop audit public-key` prints)."""
    try:
        return load_public_key_pem(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise KeyConfigError(f"{path} is not an Ed25519 public key in PEM: {exc}") from None
