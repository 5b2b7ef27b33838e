"""Where `closeloop login` keeps the CLI token, and the development-mode switch.

The token file is `CLOSELOOP_HOME/cli-token.json` when CLOSELOOP_HOME is set, otherwise
`~/.config/closeloop/cli-token.json`; it is created with mode 0600 in a 0700 folder, because
whoever reads it can sign as its owner until it expires. Only the standard library is
imported here: the decision commands read this file on every run (issue 8, "Fast CLI").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEV_MODE_VARIABLE = "CLOSELOOP_DEV_UNAUTHENTICATED"
FILE_NAME = "cli-token.json"


@dataclass(frozen=True)
class StoredToken:
    token: str
    username: str
    expires_at: str


def token_path() -> Path:
    home = os.environ.get("CLOSELOOP_HOME")
    folder = Path(home).expanduser() if home else Path.home() / ".config" / "closeloop"
    return folder / FILE_NAME


def development_mode() -> bool:
    """True when unauthenticated `--actor` decisions are allowed (never in production)."""
    return os.environ.get(DEV_MODE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def save(stored: StoredToken) -> Path:
    path = token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when the file existed with wider permissions
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(stored.__dict__, file)
    return path


def load() -> StoredToken | None:
    """The stored token, or None when there is none or it cannot be read as one."""
    try:
        raw = json.loads(token_path().read_text(encoding="utf-8"))
        return StoredToken(str(raw["token"]), str(raw["username"]), str(raw["expires_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget() -> bool:
    try:
        token_path().unlink()
    except FileNotFoundError:
        return False
    return True
