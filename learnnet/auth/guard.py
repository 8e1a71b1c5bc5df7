"""Password-guessing limits that hold under concurrency: count first, then check.

Every attempt is counted *before* the password is checked, with one atomic increment
per counter (Redis INCR with several workers), so 20 simultaneous wrong passwords get at
most as many checks as the limit allows. A successful login gives its count back.

Three counters, keyed on hashes (a 2 MB "email address" is a 64-character key):
- per account *and* client address (LOGIN_LIMIT_PER_ACCOUNT, 5 per 15 minutes): someone
  who knows your address can lock it only for themselves, not for you at your desk;
- per client address (LOGIN_LIMIT_PER_ADDRESS, 30 per 15 minutes): one machine trying
  many accounts;
- per account from anywhere (LOGIN_LIMIT_PER_ACCOUNT_ALL, 50 per hour): many machines
  trying one account.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import RateLimitItem, parse

from learnnet.extensions import _client_address, limiter


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class LoginGuard:
    """The counters of one attempt for one account from this client."""

    def __init__(self, email: str, scope: str = "login") -> None:
        config = current_app.config
        account = _digest(email.strip().lower())
        address = _digest(_client_address())
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.counters: list[tuple[RateLimitItem, tuple[str, ...]]] = [
            (parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), (f"{scope}-account", account, address)),
            (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), (f"{scope}-address", address)),
            (parse(config["LOGIN_LIMIT_PER_ACCOUNT_ALL"]), (f"{scope}-account-all", account)),
        ]

    def attempt(self) -> bool:
        """Count this attempt; False when one of the limits is exceeded (then: 429)."""
        if not self.enabled:
            return True
        allowed = True
        for item, keys in self.counters:
            allowed = limiter.limiter.hit(item, *keys) and allowed
        return allowed

    def succeeded(self) -> None:
        """A right password: give this attempt's counts back."""
        if not self.enabled:
            return
        for item, keys in self.counters:
            limiter.limiter.hit(item, *keys, cost=-1)
