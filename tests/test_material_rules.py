"""The materials' rules without an app: what a file is (from its content), photos without
metadata, ZIP bombs, clean file names, the retention date."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from learnnet.learning import materials as rules
from tests import material_files as files


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (files.pdf(), "pdf"),
        (files.ooxml("docx"), "docx"),
        (files.ooxml("xlsx"), "xlsx"),
        (files.ooxml("pptx"), "pptx"),
        (files.odf("odt"), "odt"),
        (files.odf("ods"), "ods"),
        (files.odf("odp"), "odp"),
        (files.photo("JPEG"), "jpeg"),
        (files.photo("PNG"), "png"),
        (files.photo("WEBP"), "webp"),
    ],
)
def test_the_kind_comes_from_the_content(data, code):
    checked = rules.check(data)
    assert checked.kind.code == code
    if not checked.kind.is_photo:
        assert checked.data == data  # documents are kept byte for byte


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", rules.EMPTY),
        (files.exe(), rules.UNKNOWN_TYPE),  # an .exe renamed .pdf
        (b"<html><script>alert(1)</script></html>", rules.UNKNOWN_TYPE),
        (b"GIF89a" + b"\0" * 40, rules.UNKNOWN_TYPE),  # GIF is not among the photos
        (files.zip_bomb_docx(), rules.ZIP_BOMB),
        (files.many_entries_docx(rules.ZIP_MAX_ENTRIES + 1), rules.ZIP_BOMB),
        (files.ooxml("docx", extra={"word/vbaProject.bin": b"vba"}), rules.MACROS),
        (
            files.ooxml(
                "docx", content_type="application/vnd.ms-word.document.macroEnabled.main+xml"
            ),
            rules.MACROS,
        ),
        (b"PK\x03\x04 not really a zip", rules.BROKEN),
        (files.photo("JPEG")[:60], rules.UNKNOWN_TYPE),  # a cut-off photo
    ],
)
def test_refused_files_name_their_reason(data, code):
    with pytest.raises(rules.Refused) as refused:
        rules.check(data)
    assert refused.value.code == code


def test_a_plain_zip_is_not_an_office_document():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hallo")
    with pytest.raises(rules.Refused) as refused:
        rules.check(out.getvalue())
    assert refused.value.code == rules.UNKNOWN_TYPE


def test_a_zip_that_lies_about_its_sizes_is_refused():
    """The central directory says 1 KB; the entry unpacks to 60 MB. The check unpacks
    with a running cap instead of trusting the declared size."""
    bomb = bytearray(files.zip_bomb_docx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(bomb)))
    entry = next(e for e in archive.infolist() if e.filename.endswith("zeros.bin"))
    real = entry.file_size.to_bytes(4, "little")
    fake = (1024).to_bytes(4, "little")
    assert bomb.count(real) >= 2  # the local header and the central directory
    patched = bytes(bomb).replace(real, fake)
    with pytest.raises(rules.Refused) as refused:
        rules.check(patched)
    assert refused.value.code in (rules.ZIP_BOMB, rules.BROKEN)


def test_size_limit():
    data = files.pdf() + b"%" * 2000
    assert rules.check(data, max_bytes=len(data)).kind.code == "pdf"
    with pytest.raises(rules.Refused) as refused:
        rules.check(data, max_bytes=len(data) - 1)
    assert refused.value.code == rules.TOO_LARGE


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_photos_lose_gps_and_camera_details(fmt):
    original = files.photo(fmt, gps=True, text="Ilse Peeters")
    with Image.open(io.BytesIO(original)) as before:  # the oracle: Pillow reads them back
        assert before.getexif().get_ifd(0x8825)
        assert before.getexif().get(0x010F) == "Telefoonmaker"
    cleaned = rules.check(original).data
    with Image.open(io.BytesIO(cleaned)) as after:
        exif = after.getexif()
        assert not exif.get_ifd(0x8825) and 0x8825 not in exif
        assert len(exif) == 0
        assert "exif" not in after.info and "Author" not in after.info
        assert after.size == (40, 20)
    assert b"Telefoonmaker" not in cleaned and b"Ilse" not in cleaned
    assert not rules.has_metadata(cleaned)


def test_the_orientation_is_applied_before_the_exif_goes():
    """Orientation 6 (rotate 90° clockwise to view): a 40×20 photo becomes 20×40, its red
    left half on top."""
    cleaned = rules.check(files.photo("JPEG", size=(40, 20), orientation=6)).data
    with Image.open(io.BytesIO(cleaned)) as after:
        assert after.size == (20, 40)
        assert 0x0112 not in after.getexif()
        red, _green, blue = after.convert("RGB").getpixel((10, 5))
        assert red > 150 and blue < 100


def test_a_huge_image_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 7_000)).save(out, "PNG")  # 70 megapixels, a few KB
    with pytest.raises(rules.Refused) as refused:
        rules.check(out.getvalue())
    assert refused.value.code == rules.TOO_LARGE


PDF = rules.KINDS["pdf"]
JPEG = rules.KINDS["jpeg"]


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("verslag.pdf", PDF, "verslag.pdf"),
        ("Verslag.PDF", PDF, "Verslag.pdf"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\Users\\ilse\\Bureaublad\\plan.pdf", PDF, "plan.pdf"),
        ("a\x00b\r\nc\x1b[31m.pdf", PDF, "ab c[31m.pdf"),
        ("foto\u202egpj.exe", JPEG, "fotogpj.exe.jpg"),  # no right-to-left trick
        ("rapport.pdf", JPEG, "rapport.pdf.jpg"),  # a photo named .pdf says what it is
        ("IMG_0001.JPEG", JPEG, "IMG_0001.jpeg"),
        ("", PDF, "bestand.pdf"),
        ("/", PDF, "bestand.pdf"),
        ("...", PDF, "bestand.pdf"),
    ],
)
def test_clean_name(name, kind, expected):
    assert rules.clean_name(name, kind) == expected


@given(st.text(max_size=400), st.sampled_from(sorted(rules.KINDS)))
def test_clean_names_are_always_safe(name, code):
    kind = rules.KINDS[code]
    cleaned = rules.clean_name(name, kind)
    assert "/" not in cleaned and "\\" not in cleaned
    assert not any(unicodedata.category(ch).startswith("C") for ch in cleaned)
    assert len(cleaned) <= rules.MAX_NAME
    assert cleaned.rsplit(".", 1)[1] in (kind.extensions or (kind.extension,))
    assert cleaned == cleaned.strip() and not cleaned.startswith(".")


def _first_31_august_on_or_after(day: date) -> date:
    while (day.month, day.day) != (8, 31):
        day += timedelta(days=1)
    return day


def test_kept_until_the_end_of_the_next_werkjaar():
    """Every day of four years, against a walk through the calendar: the current
    werkjaar ends on the first 31 August on or after the day; the next one a year later."""
    day = date(2025, 1, 1)
    while day < date(2029, 1, 1):
        end_of_this = _first_31_august_on_or_after(day)
        expected = date(end_of_this.year + 1, 8, 31)
        assert rules.default_keep_until(day) == expected, day
        assert not rules.expired(expected, expected)
        assert rules.expired(expected, expected + timedelta(days=1))
        day += timedelta(days=1)


def test_a_later_werkjaar_keeps_its_files_longer():
    # Uploaded in June 2027 for the werkjaar 2027-2028: kept until 31 August 2029.
    assert rules.default_keep_until(date(2027, 6, 1), 2027) == date(2029, 8, 31)
    # A file for an old werkjaar is never kept shorter than one added today.
    assert rules.default_keep_until(date(2027, 6, 1), 2020) == date(2028, 8, 31)
