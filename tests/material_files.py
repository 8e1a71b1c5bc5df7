"""Sample files for the materials tests, built here (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

MAIN = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
ODF = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def ooxml(kind: str, extra: dict[str, bytes] | None = None, content_type: str = "") -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{PART[kind]}" ContentType="{content_type or MAIN[kind]}"/>'
        "</Types>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(PART[kind], "<document>Verslag van de bijeenkomst</document>" * 20)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def odf(kind: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODF[kind], zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


def zip_bomb_docx(megabytes: int = 60) -> bytes:
    """A valid-looking .docx with one entry of zeros that unpacks to ``megabytes`` MB."""
    return ooxml("docx", extra={"word/media/zeros.bin": b"\0" * (megabytes * 1024 * 1024)})


def many_entries_docx(count: int) -> bytes:
    return ooxml("docx", extra={f"word/part{i}.xml": b"<p/>" for i in range(count)})


def exe() -> bytes:
    """The start of a Windows program (an .exe renamed .pdf)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 200 + b"PE\0\0"


def photo(
    fmt: str = "JPEG",
    size: tuple[int, int] = (40, 20),
    gps: bool = False,
    orientation: int | None = None,
    text: str | None = None,
) -> bytes:
    """A small photo: left half red, right half blue; with GPS/camera EXIF if asked."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "Telefoonmaker"  # Make
        exif[0x0110] = "Toestel 12"  # Model
        exif[0x8825] = {1: "N", 2: (50.0, 51.0, 12.5), 3: "E", 4: (4.0, 21.0, 3.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    kwargs: dict[str, object] = {}
    if gps or orientation:
        kwargs["exif"] = exif
    if text and fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Author", text)
        kwargs["pnginfo"] = info
    image.save(out, fmt, **kwargs)
    return out.getvalue()
