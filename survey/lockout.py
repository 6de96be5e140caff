"""Failed sign-ins, counted so that guessing stays slow and nobody locks another person out.

OWASP's "device cookie" scheme (Slow Brute Force Protection): a browser that has signed in to
an account gets a signed cookie naming that account (by a keyed hash, with a random nonce).

- From such a browser, failures count against that browser alone (``LOGIN_DEVICE_LIMIT``):
  an attacker's failures elsewhere never refuse the owner on their own device.
- From any other browser, failures count against the address (``LOGIN_LIMIT``, all accounts)
  and against the account (``LOGIN_ACCOUNT_LIMIT``, from every address, so that guessing one
  account from many addresses stays slow). Unknown e-mails count like known ones.

Only failures count; a refused attempt is not checked at all. Counters live in the rate
limiter's storage (Redis when ``REDIS_URL`` is set), keyed by keyed hashes: no address or e-mail
is stored. An administrator clears an account's counter on the account's page.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from redis.exceptions import RedisError

from .extensions import client_key, limiter

DEVICE_COOKIE = "signin_device"
DEVICE_DAYS = 180
_NAMESPACE = "signin"


def _hash(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"{_NAMESPACE}-{kind}:{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="signin-device")


def _device(email: str) -> str | None:
    """The nonce of this browser's device cookie, if it names the account being signed in to."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = _serializer().loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != _hash("account", email):
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) and len(nonce) <= 64 else None


def buckets(email: str) -> list[tuple[str, str, str]]:
    """(limit setting, kind, key) of every counter an attempt on `email` from here counts in."""
    nonce = _device(email)
    if nonce is not None:
        return [("LOGIN_DEVICE_LIMIT", "device", _hash("device", nonce))]
    return [("LOGIN_LIMIT", "address", client_key()),
            ("LOGIN_ACCOUNT_LIMIT", "account", _hash("account", email))]


def _each(counters):
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    for setting, kind, key in counters:
        for item in parse_many(current_app.config[setting]):
            yield item, f"{prefix}{kind}", key


def blocked(counters) -> bool:
    """Has any counter reached its limit? (Storage down: never block a sign-in.)"""
    if not limiter.enabled:
        return False
    try:
        return any(not limiter.limiter.test(item, _NAMESPACE, kind, key)
                   for item, kind, key in _each(counters))
    except RedisError:
        return False


def failed(counters) -> None:
    if not limiter.enabled:
        return
    try:
        for item, kind, key in _each(counters):
            limiter.limiter.hit(item, _NAMESPACE, kind, key)
    except RedisError:
        pass


def clear_account(email: str) -> None:
    """An administrator's unlock: forget the failures counted against the account."""
    try:
        for item, kind, key in _each([("LOGIN_ACCOUNT_LIMIT", "account",
                                       _hash("account", email))]):
            limiter.limiter.clear(item, _NAMESPACE, kind, key)
    except RedisError:
        pass


def remember_device(response, email: str) -> None:
    """After a successful sign-in: this browser is one the account's owner uses."""
    if _device(email) is not None:
        return
    value = _serializer().dumps({"a": _hash("account", email), "n": secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, path="/auth/",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                        samesite="Lax")
