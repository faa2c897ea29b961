"""Keep secrets out of everything steward prints or writes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "****"

_SECRET_KEY = re.compile(r"pass|secret|token|private|credential|api_?key|keyfile|auth", re.IGNORECASE)
# user:password@ in URLs and DSNs, and password=... in libpq-style connection strings.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<secret>[^@\s]+)(?=@)", re.IGNORECASE)
# Part of every _URL_PASSWORD match, starting with a literal the regex engine finds quickly.
_URL_PASSWORD_HINT = re.compile(r"://[^:/@\s]+:[^@\s]+@")
_KV_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<secret>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` with the values of secret-looking keys masked, recursively."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if is_secret_key(str(key)) and value not in (None, "", [], {}):
            out[key] = MASK
        elif isinstance(value, Mapping):
            out[key] = redact_mapping(value)
        elif isinstance(value, str):
            out[key] = redact_text(value)
        else:
            out[key] = value
    return out


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values and anything shaped like a password in a URL or DSN."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    # Literal checks first: the full patterns scan slowly, and deploy reports pass megabytes through here.
    if _URL_PASSWORD_HINT.search(text):
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    # casefold, not lower: the IGNORECASE pattern also takes the long s (U+017F) for an s.
    folded = text.casefold()
    if "passw" in folded or "pwd" in folded:
        text = _KV_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return text
