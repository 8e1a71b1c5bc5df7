"""Where messages go: .eml files (laptop default) or an SMTP server (production)."""

from __future__ import annotations

import quopri
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
        # RFC 5322: lines end in CRLF, in the file too (mail programs and tools expect it).
        path.write_bytes(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


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
                smtp.ehlo_or_helo_if_needed()
                if smtp.has_extn("8bitmime"):
                    # The calendar and text parts are 8-bit UTF-8: say so (RFC 6152).
                    refused = smtp.send_message(message, mail_options=["BODY=8BITMIME"])
                else:
                    refused = smtp.send_message(seven_bit(message))
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


def seven_bit(message: EmailMessage) -> EmailMessage:
    """The message with every 8-bit part re-encoded as quoted-printable, for a server that
    does not offer 8BITMIME (RFC 6152): it may refuse or mangle 8-bit data otherwise."""
    for part in message.walk():
        if part.is_multipart() or str(part.get("Content-Transfer-Encoding", "")).lower() != "8bit":
            continue
        data = part.get_payload(decode=True) or b""
        data = data.replace(b"\r\n", b"\n")  # quoted-printable keeps hard line breaks
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    return message


def backend_from(config: dict[str, Any], instance_path: str) -> Backend:
    """The configured backend: MAIL_BACKEND is "file" (default) or "smtp"."""
    kind = config.get("MAIL_BACKEND", "file")
    if kind == "smtp":
        return SmtpBackend(config)
    folder = config.get("MAIL_OUTBOX_DIR") or str(Path(instance_path) / "outbox")
    return FileBackend(Path(folder))
