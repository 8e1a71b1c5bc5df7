"""Rules for materials (files shared with a network), with no Flask and no database.

What a file *is* is read from its content, never from its name: a PDF starts with
``%PDF-``; an office document is a ZIP whose structure names its kind (OOXML's
``[Content_Types].xml``, ODF's leading ``mimetype`` entry); a photo is whatever Pillow
can decode as JPEG, PNG, WebP (or HEIC when a Pillow plugin reads it). Anything else
is refused, and so is a ZIP that unpacks to far more than it weighs (a ZIP bomb).

A photo is decoded, turned upright (its EXIF orientation applied) and encoded again
without any metadata: no GPS position, no camera, no date, no comments.

The retention date, the werkjaar of a date and the cleaned file name are plain functions
too, so that the rules are tested without an app.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date

# --- limits -------------------------------------------------------------------------------

DEFAULT_MAX_BYTES = 15 * 1024 * 1024
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024  # everything in the archive, unpacked
ZIP_MAX_RATIO = 100  # unpacked / packed: office documents stay far below (5-20)
MAX_PIXELS = 60_000_000  # a photo of 60 megapixels; more is a decompression bomb
MAX_NAME = 120

# --- kinds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of file learnnet accepts: its MIME type, extension and family."""

    code: str
    mimetype: str
    extension: str
    family: str  # "pdf", "document", "photo"
    extensions: tuple[str, ...] = ()

    @property
    def is_photo(self) -> bool:
        return self.family == "photo"


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("pdf", "application/pdf", "pdf", "pdf"),
        Kind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
            "document",
        ),
        Kind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            "document",
        ),
        Kind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx",
            "document",
        ),
        Kind("odt", "application/vnd.oasis.opendocument.text", "odt", "document"),
        Kind("ods", "application/vnd.oasis.opendocument.spreadsheet", "ods", "document"),
        Kind("odp", "application/vnd.oasis.opendocument.presentation", "odp", "document"),
        Kind("jpeg", "image/jpeg", "jpg", "photo", ("jpg", "jpeg")),
        Kind("png", "image/png", "png", "photo"),
        Kind("webp", "image/webp", "webp", "photo"),
    )
}

# The main part of each OOXML document kind, as [Content_Types].xml names it.
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_ODF = {KINDS[c].mimetype: c for c in ("odt", "ods", "odp")}
_PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}

# --- refusals -----------------------------------------------------------------------------

EMPTY = "empty"
TOO_LARGE = "too_large"
UNKNOWN_TYPE = "unknown_type"
ZIP_BOMB = "zip_bomb"
MACROS = "macros"
BROKEN = "broken"
PHOTO_CONSENT = "photo_consent"


class Refused(ValueError):
    """The file is not accepted; ``code`` says why (one of the constants above)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Checked:
    """An accepted file: its kind and the bytes to store (a photo re-encoded)."""

    kind: Kind
    data: bytes


# --- the checks ---------------------------------------------------------------------------


def check(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Checked:
    """The kind of ``data`` read from its content, and the bytes to keep; or :class:`Refused`.

    Photos come back re-encoded without metadata (see :func:`clean_photo`).
    """
    if not data:
        raise Refused(EMPTY)
    if len(data) > max_bytes:
        raise Refused(TOO_LARGE)
    if b"%PDF-" in data[:1024]:
        return Checked(KINDS["pdf"], data)
    if data[:4] == b"PK\x03\x04":
        return Checked(KINDS[office_kind(data)], data)
    code = photo_kind(data)
    if code is None:
        raise Refused(UNKNOWN_TYPE)
    cleaned, code = clean_photo(data)
    return Checked(KINDS[code], cleaned)


def office_kind(data: bytes) -> str:
    """``docx``/``xlsx``/``pptx``/``odt``/``ods``/``odp`` from the ZIP's structure.

    The archive is refused when it has too many entries, unpacks to too much or packs
    too tightly (each entry is actually unpacked, with a running cap, since the sizes a
    ZIP declares may lie), or holds macros.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refused(BROKEN) from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise Refused(ZIP_BOMB)
    declared = sum(e.file_size for e in entries)
    if declared > ZIP_MAX_UNPACKED or declared > ZIP_MAX_RATIO * max(len(data), 1):
        raise Refused(ZIP_BOMB)
    names = {e.filename for e in entries}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Refused(MACROS)
    budget = min(ZIP_MAX_UNPACKED, ZIP_MAX_RATIO * len(data))
    parts: dict[str, bytes] = {}
    try:
        for entry in entries:
            if entry.is_dir():
                continue
            keep = entry.filename in ("[Content_Types].xml", "mimetype")
            kept = bytearray()
            with archive.open(entry) as stream:
                while chunk := stream.read(64 * 1024):
                    budget -= len(chunk)
                    if budget < 0:
                        raise Refused(ZIP_BOMB)
                    if keep and len(kept) < 256 * 1024:
                        kept += chunk
            if keep:
                parts[entry.filename] = bytes(kept)
    except Refused:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        # Broken, encrypted (RuntimeError) or an unknown compression method.
        raise Refused(BROKEN) from None
    if entries and entries[0].filename == "mimetype" and "mimetype" in parts:
        code = _ODF.get(parts["mimetype"].decode("ascii", "replace").strip())
        if code:
            return code
    types = parts.get("[Content_Types].xml", b"").decode("utf-8", "replace")
    if "macroEnabled" in types:
        raise Refused(MACROS)
    for main, code in _OOXML_MAIN.items():
        if f'ContentType="{main}"' in types:
            return code
    raise Refused(UNKNOWN_TYPE)


def photo_kind(data: bytes) -> str | None:
    """``jpeg``/``png``/``webp`` (``heic`` when a plugin reads it) if Pillow can decode
    ``data`` as one of those, else None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            code = _PILLOW_FORMATS.get(image.format or "")
            if code is None:
                return None
            if image.width * image.height > MAX_PIXELS:
                raise Refused(TOO_LARGE)
            image.verify()
    except Refused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return code


def clean_photo(data: bytes) -> tuple[bytes, str]:
    """The photo turned upright and encoded again without metadata, and its kind.

    Only the pixels (and the colour profile) survive: EXIF (GPS, camera, date),
    XMP, comments and PNG text chunks are not written. HEIC becomes JPEG.
    """
    import warnings

    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                code = _PILLOW_FORMATS.get(opened.format or "", "")
                opened.seek(0)  # the first frame of an animation
                image = ImageOps.exif_transpose(opened)
                image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise Refused(BROKEN) from None
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    if code in ("jpeg", "heic"):
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, icc_profile=icc)
        code = "jpeg"
    elif code == "png":
        image.save(out, "PNG", icc_profile=icc, optimize=False)
    else:
        image.save(out, "WEBP", quality=90, icc_profile=icc)
        code = "webp"
    return out.getvalue(), code


def has_metadata(data: bytes) -> bool:
    """True when a photo still carries EXIF or XMP (a check after :func:`clean_photo`)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        if image.getexif():
            return True
        return any(key in image.info for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment"))


# --- names --------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def clean_name(name: str, kind: Kind, fallback: str = "bestand") -> str:
    """A file name safe to show and to offer as a download name.

    The last part after any ``/`` or ``\\`` (a browser may send a whole path), without
    control or formatting characters (line breaks, NUL, right-to-left overrides that
    make ``gpj.exe`` look like ``exe.jpg``), spaces folded, at most :data:`MAX_NAME`
    characters, and ending in the extension of what the file really is.
    """
    name = re.split(r"[/\\]", name or "")[-1]
    name = re.sub(r"[\t\n\v\f\r]+", " ", name)  # a line break or tab separates words
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",))
    name = _SPACES.sub(" ", name).strip().strip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    accepted = kind.extensions or (kind.extension,)
    if ext.lower() in accepted:
        extension = ext.lower()
    else:
        stem = name  # "report.pdf" that is a photo keeps its whole name: "report.pdf.jpg"
        extension = kind.extension
    stem = stem.strip() or fallback
    stem = stem[: MAX_NAME - len(extension) - 1].rstrip()
    return f"{stem}.{extension}"


# --- werkjaar and retention ---------------------------------------------------------------


def werkjaar_start(day: date) -> int:
    """The year in which the werkjaar (1 September – 31 August) holding ``day`` starts."""
    return day.year if day.month >= 9 else day.year - 1


def default_keep_until(uploaded_on: date, werkjaar: int | None = None) -> date:
    """Kept until the end of the werkjaar after the one it belongs to: 31 August of
    ``werkjaar + 2``. The werkjaar is that of the material (a session's, or the one it
    was added for), else that of the upload day; never earlier than the upload's."""
    start = werkjaar_start(uploaded_on)
    if werkjaar is not None:
        start = max(start, werkjaar)
    return date(start + 2, 8, 31)


def expired(keep_until: date, today: date) -> bool:
    """A material whose retention date has passed is deleted (the day itself still counts)."""
    return keep_until < today
