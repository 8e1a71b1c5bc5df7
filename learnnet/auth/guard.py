"""Password-guessing limits that hold under concurrency: count first, then check.

Every attempt that reaches the password check is counted *before* the check, with one
atomic increment per counter (Redis INCR with several workers), so 20 simultaneous wrong
passwords get at most as many checks as the limit allows. A successful login gives its
count back.

Three counters, keyed on hashes (a 2 MB "email address" is a 64-character key), tried
in this order:
- per account *and* client address (LOGIN_LIMIT_PER_ACCOUNT, 5 per 15 minutes): someone
  who knows your address can lock it only for themselves, not for you at your desk;
- per client address (LOGIN_LIMIT_PER_ADDRESS, 30 per 15 minutes): one machine trying
  many accounts;
- per account from anywhere (LOGIN_LIMIT_PER_ACCOUNT_ALL, 50 per hour): many machines
  trying one account.

A refused attempt counts nowhere: the counters it already took are given back (issue
19.5). Otherwise one address, refused by the first counter after five tries, would go on
filling the account's own counter and lock the account for everybody for an hour. A
password set through a mailed link (reset or invitation) clears the account's counters.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import RateLimitItem, parse

from learnnet.extensions import _client_address, counters

ACCOUNT = "account"  # the account from this address
ADDRESS = "address"  # this address, any account
ACCOUNT_ALL = "account-all"  # the account from anywhere


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class LoginGuard:
    """The counters of one attempt for one account from this client."""

    def __init__(self, email: str, scope: str = "login") -> None:
        config = current_app.config
        account = _digest(email.strip().lower())
        address = _digest(_client_address())
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.refused_by: str | None = None  # which counter refused the last attempt
        self.counters: list[tuple[str, RateLimitItem, tuple[str, ...]]] = [
            (
                ACCOUNT,
                parse(config["LOGIN_LIMIT_PER_ACCOUNT"]),
                (f"{scope}-account", account, address),
            ),
            (ADDRESS, parse(config["LOGIN_LIMIT_PER_ADDRESS"]), (f"{scope}-address", address)),
            (
                ACCOUNT_ALL,
                parse(config["LOGIN_LIMIT_PER_ACCOUNT_ALL"]),
                (f"{scope}-account-all", account),
            ),
        ]

    def attempt(self) -> bool:
        """Count this attempt; False when a limit is reached (then: 429, nothing counted)."""
        if not self.enabled:
            return True
        taken: list[tuple[RateLimitItem, tuple[str, ...]]] = []
        for name, item, keys in self.counters:
            taken.append((item, keys))
            if not counters.hit(item, *keys):
                for given_item, given_keys in taken:  # a refused attempt counts nowhere
                    counters.hit(given_item, *given_keys, cost=-1)
                self.refused_by = name
                return False
        return True

    def succeeded(self) -> None:
        """A right password: give this attempt's counts back."""
        if not self.enabled:
            return
        for _name, item, keys in self.counters:
            counters.hit(item, *keys, cost=-1)

    def unlock(self) -> None:
        """The owner proved themselves by mail: the account's counters start afresh."""
        for name, item, keys in self.counters:
            if name != ADDRESS:
                counters.clear(item, *keys)
