"""Where messages go: .eml files (laptop default) or an SMTP server (production)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol


class DeliveryError(Exception):
    """The message was not delivered; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class FileBackend:
    """Write each message as ``<folder>/<timestamp>-<id>.eml``: mail without a mail server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message.get("X-Learnnet-File", "")) or "message"
        del message["X-Learnnet-File"]
        path = self.folder / f"{name}.eml"
        path.write_bytes(bytes(message))


class SmtpBackend:
    """Deliver through an SMTP server (STARTTLS or implicit TLS, optional login)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.use_ssl = bool(config["MAIL_USE_SSL"])
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.timeout = float(config.get("MAIL_TIMEOUT", 20))

    def send(self, message: EmailMessage) -> None:
        del message["X-Learnnet-File"]
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.use_tls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
                if refused:
                    raise DeliveryError(f"recipient refused: {refused}", permanent=True)
        except smtplib.SMTPNotSupportedError as exc:
            # E.g. an address with non-ASCII characters and a server without SMTPUTF8:
            # this message will never go through that server, the others can.
            raise DeliveryError(str(exc), permanent=True) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will refuse again; 4xx: try later.
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}", permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def backend_from(config: dict[str, Any], instance_path: str) -> Backend:
    """The configured backend: MAIL_BACKEND is "file" (default) or "smtp"."""
    kind = config.get("MAIL_BACKEND", "file")
    if kind == "smtp":
        return SmtpBackend(config)
    folder = config.get("MAIL_OUTBOX_DIR") or str(Path(instance_path) / "outbox")
    return FileBackend(Path(folder))
