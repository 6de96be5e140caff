"""The self-generated linkage code, stored only as keyed hashes, one per element.

digest(element, value) = HMAC-SHA256(K_agency, "element=value")[:128 bits], where
K_agency = HMAC-SHA256(LINKAGE_SECRET, "linkage-key:" + agency salt). The secret lives in the
server's environment, never in the database, so a database dump alone cannot test guesses
(12 birth months x 26 initials is a small space). One hash per element lets a matcher tolerate
one misremembered element.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

DIGEST_HEX = 32


def agency_key(secret: str, salt: str) -> bytes:
    if not secret:
        raise ValueError("LINKAGE_SECRET is not set")
    return hmac.new(secret.encode(), b"linkage-key:" + salt.encode(), hashlib.sha256).digest()


def hash_linkage(answers: Mapping[str, str | None], *, secret: str, salt: str
                 ) -> dict[str, str] | None:
    """Keyed hashes of the answered elements; None when no element was answered."""
    key = agency_key(secret, salt)
    digests = {
        code: hmac.new(key, f"{code}={value}".encode(), hashlib.sha256).hexdigest()[:DIGEST_HEX]
        for code, value in answers.items() if value not in (None, "")
    }
    return digests or None
