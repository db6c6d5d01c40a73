"""Issue 10 item 8: the documents package (fonts by script, shaped PDF, QR, stored files),
on its own, without the app or a database."""
import doctest
import importlib
import io
import os
import threading
import time

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from cowin_kit.documents import fonts, qr, storage
from cowin_kit.documents.pdf import Document

MODULES = ["cowin_kit.documents.fonts", "cowin_kit.documents.qr",
           "cowin_kit.documents.storage", "cowin_kit.documents.pdf"]


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_fonts_by_script():
    assert fonts.font_for("ar").family == "Noto Sans Arabic" and fonts.font_for("ar")[2]
    assert fonts.font_for("hi").family == "Noto Sans Devanagari"
    assert fonts.font_for("mr").family == "Noto Sans Devanagari"
    assert fonts.font_for("ta").family == "Noto Sans Tamil"
    assert fonts.font_for("te").family == "Noto Sans Telugu"
    assert fonts.font_for("es").family == fonts.font_for("uk").family == "Noto Sans"
    assert not fonts.font_for("hi").right_to_left
    assert fonts.script_of("pa-IN") == "Guru" and fonts.script_of("xx") == "Latn"
    # Resolved once per process: the same answer object every time.
    assert fonts.font_for("ar") is fonts.font_for("ar")


def _embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    """The fonts the first page uses, by base name without the subset tag, each parsed
    from the font file embedded in the PDF (so a missing file fails here)."""
    found = {}
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        data = descriptor["/FontFile2"].get_data()
        found[str(font["/BaseFont"]).split("+")[-1]] = TTFont(io.BytesIO(data))
    return found


def _text_positions(pdf: bytes) -> list[tuple[str, float]]:
    seen = []

    def visit(text, _cm, tm, _font, _size):
        if text.strip():
            seen.append((text.strip(), tm[4]))
    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return seen


def _mixed_document(lang: str) -> bytes:
    doc = Document(lang, "وثيقة",
                   fallback_families=fonts.families_for("स्वास्थ्य", "الاسم"))
    doc.heading("قسيمة الموعد")
    doc.rows([("الاسم", "Ana Quispe"), ("पता", "स्वास्थ्य केंद्र"), ("empty", "")],
             image=qr.png("0b7e1c2a-1111-4222-8333-444455556666"))
    doc.boxed("الرمز السري", "1234")
    doc.paragraph("नाम स्वास्थ्य", color=(160, 0, 0))
    return doc.output()


def test_latin_arabic_and_devanagari_fonts_embedded_and_text_shaped():
    pdf = _mixed_document("ar")
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf
    embedded = _embedded_fonts(pdf)
    assert "NotoSansArabic" in embedded, embedded.keys()

    # Arabic was shaped: letters joined, so the subset holds positional forms (initial,
    # medial, final: Arabic Presentation Forms-B), not only the letters' isolated code points.
    arabic = embedded["NotoSansArabic"].getGlyphOrder()
    assert any(name.startswith("uniFE") for name in arabic), arabic
    # Devanagari was shaped: conjuncts and matras are glyphs no code point maps to.
    devanagari = next(f for f in embedded.values()
                      if 0x0915 in (f.getBestCmap() or {}))  # क
    reachable = set((devanagari.getBestCmap() or {}).values())
    assert set(devanagari.getGlyphOrder()) - reachable - {".notdef", "uni0000"}

    # ...and the text comes back out, in logical order, from the embedded ToUnicode maps.
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for part in ("الاسم", "Ana Quispe", "स्वास्थ्य", "नाम", "1234"):
        assert part in text, (part, text)
    assert "empty" not in text  # a row without a value is left out


def test_right_to_left_text_is_set_from_the_right():
    page_width = 148 / 25.4 * 72
    rtl = dict(_text_positions(_mixed_document("ar")))
    ltr = dict(_text_positions(_mixed_document("en")))
    assert rtl["الاسم"] > page_width / 2 and ltr["الاسم"] < page_width / 4
    # Latin text in a right-to-left document keeps its own order.
    assert "Ana Quispe" in rtl


def test_pages_and_images():
    doc = Document("hi", "प्रमाणपत्र", size=(210, 297))
    doc.heading("टीकाकरण प्रमाणपत्र")
    doc.image(qr.png("https://example.org/verify/1"), size=40)
    doc.add_page()
    doc.paragraph("दूसरा पृष्ठ")
    reader = PdfReader(io.BytesIO(doc.output()))
    assert len(reader.pages) == 2
    assert reader.metadata.title == "प्रमाणपत्र"
    assert "दूसरा" in reader.pages[1].extract_text()


def _modules_from_png(png: bytes, border: int, scale: int) -> list[list[bool]]:
    """Read the modules back from the PNG's pixels (the centre pixel of each module)."""
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // scale - 2 * border
    return [[image.getpixel(((border + x) * scale + scale // 2,
                             (border + y) * scale + scale // 2)) < 128
             for x in range(size)] for y in range(size)]


def test_qr_png_draws_segno_matrix():
    text = "0b7e1c2a-1111-4222-8333-444455556666"
    code = qr.code(text)
    assert not code.is_micro and code.error == "M"
    matrix = [[bool(module) for module in row] for row in code.matrix]
    assert _modules_from_png(qr.png(text, scale=4, border=2), border=2, scale=4) == matrix
    # Short texts too get a full QR code (segno.make would pick a Micro QR for them).
    assert not qr.code("1234").is_micro
    svg = qr.svg(text)
    assert svg.startswith("<svg") and "<?xml" not in svg


def test_qr_round_trip_with_a_decoder():
    zxingcpp = pytest.importorskip("zxingcpp", reason="no QR decoder in this environment")
    from PIL import Image
    text = "https://example.org/verify/ÄÖ-123"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png(text))))
    assert [d.text for d in decoded] == [text]


def _counting(data: bytes):
    calls = []

    def build():
        calls.append(1)
        return data
    return build, calls


@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_storage_returns_the_same_bytes_without_building_again(kind, tmp_path):
    store = storage.MemoryStore() if kind == "memory" else storage.DirectoryStore(tmp_path / "d")
    key = storage.content_key("slip", "id-1", "en", "booked")
    build, calls = _counting(b"%PDF-first")
    assert store.fetch(key, build) == b"%PDF-first"
    again, again_calls = _counting(b"%PDF-second")
    assert store.fetch(key, again) == b"%PDF-first"
    assert len(calls) == 1 and not again_calls
    other = storage.content_key("slip", "id-1", "en", "cancelled")
    assert store.fetch(other, again) == b"%PDF-second" and len(again_calls) == 1
    store.clear()
    assert store.get(key) is None


def test_directory_store_is_shared_private_and_checks_keys(tmp_path):
    folder = tmp_path / "documents"
    key = storage.content_key("certificate", "person", 3)
    storage.DirectoryStore(folder).fetch(key, lambda: b"stored")
    # Another worker (another store object on the same folder) finds it, without building.
    assert storage.DirectoryStore(folder).fetch(key, lambda: pytest.fail("built")) == b"stored"
    assert oct((folder / key).stat().st_mode & 0o777) == "0o600"
    assert not [p for p in os.listdir(folder) if p.startswith(".part-")]
    with pytest.raises(ValueError):
        storage.DirectoryStore(folder).get("../secrets.toml")


def test_memory_store_keeps_the_most_recently_used():
    store = storage.MemoryStore(size=2)
    a, b, c = (storage.content_key("k", n) for n in "abc")
    store.put(a, b"a")
    store.put(b, b"b")
    store.get(a)  # a is now more recent than b
    store.put(c, b"c")
    assert store.get(b) is None and store.get(a) == b"a" and len(store) == 2


def test_concurrent_requests_build_once():
    store = storage.MemoryStore()
    key = storage.content_key("slip", "busy")
    calls = []

    def slow_build():
        calls.append(1)
        time.sleep(0.2)
        return b"built"
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.fetch(key, slow_build)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"built"] * 4 and len(calls) == 1


def test_a_failed_build_stores_nothing():
    store = storage.MemoryStore()
    key = storage.content_key("slip", "broken")

    def broken():
        raise RuntimeError("no font")
    with pytest.raises(RuntimeError):
        store.fetch(key, broken)
    assert store.fetch(key, lambda: b"fixed") == b"fixed"
