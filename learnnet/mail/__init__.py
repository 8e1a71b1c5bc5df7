"""Mail: an outbox table, message building and delivery. Knows nothing of RSVP rules.

A message is queued (a row) in the same transaction as the change that causes it; a
sender delivers due rows later, with retries and backoff, so nothing is lost while the
mail server is down. See :mod:`learnnet.mail.services`.
"""
