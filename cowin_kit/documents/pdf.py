"""A small PDF builder: pages of headings, label/value rows, paragraphs and images, in any
shipped language.

fpdf2 sets the text and HarfBuzz (uharfbuzz) shapes it, so Arabic letters join and Indic
conjuncts form. A document is in one language: its script's Noto font, with Noto Sans as
fallback for names, numbers and Latin text; in a right-to-left language the text is aligned
right and images sit on the left. Each run of text is shaped in its own direction: runs with
no right-to-left letters (times, codes, Latin names) left to right, so "09:00–11:00" is not
reversed on an Arabic slip, and Arabic runs right to left in any document.

A label may be a tuple of texts (a bilingual document: the reader's language, then English
under it, smaller); each text is shaped in its own direction.

Building costs tens of milliseconds (fpdf2 parses and subsets each font per document), so
callers keep the bytes (``documents.storage``) rather than build the same document twice.

Callers pass text already translated: this module knows nothing of gettext or Flask.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from cowin_kit.documents import fonts

A4 = (210, 297)  # millimetres
A5 = (148, 210)
GREY, LIGHT_GREY = (90, 90, 90), (120, 120, 120)
# A label: one text, or the same label in several languages (the first one larger).
Label = str | tuple[str, ...]


def label_lines(label: Label) -> tuple[str, ...]:
    """The texts of a label, each once.

    >>> label_lines(("Nombre", "Name")), label_lines(("Name", "Name")), label_lines("Name")
    (('Nombre', 'Name'), ('Name',), ('Name',))
    """
    lines = (label,) if isinstance(label, str) else tuple(label)
    return tuple(dict.fromkeys(line for line in lines if line))


class Document:
    """One PDF in ``lang``; ``title`` goes in its metadata. Start with one page."""

    def __init__(self, lang: str, title: str, *, size: tuple[float, float] = A5,
                 margin: float = 12, fallback_families: Sequence[str] = ()):
        from fpdf import FPDF

        font = fonts.font_for(lang)
        self.lang = lang
        self.family = font.family
        self.rtl = fonts.is_rtl(lang)
        pdf = self._pdf = FPDF(format=size, unit="mm")
        pdf.set_margins(margin, margin, margin)
        pdf.set_auto_page_break(True, margin)
        pdf.set_title(title)
        pdf.set_creator("cowin-kit")
        pdf.set_lang(lang.replace("_", "-"))
        pdf.add_font(font.family, "", font.path)
        fallbacks = [f for f in dict.fromkeys((fonts.DEFAULT_FAMILY, *fallback_families))
                     if f != font.family]
        for family in fallbacks:
            path = fonts.font_path(family)
            if path is not None:
                pdf.add_font(family, "", path)
        fallbacks = [f for f in fallbacks if f.lower() in pdf.fonts]
        if fallbacks:
            pdf.set_fallback_fonts(fallbacks)
        pdf.set_text_shaping(True, direction="rtl" if self.rtl else "ltr")
        self._shaping_rtl = self.rtl
        pdf.add_page()

    # -- geometry ------------------------------------------------------------------------

    @property
    def width(self) -> float:
        """The width between the margins (mm)."""
        return self._pdf.epw

    @property
    def _align(self):
        from fpdf.enums import Align
        return Align.R if self.rtl else Align.L

    def _direction(self, text: str) -> None:
        """Shape each run in its own direction: an Arabic name on an English certificate
        right to left, a time on an Arabic slip left to right."""
        rtl = fonts.has_rtl_letters(text)
        if rtl != self._shaping_rtl:
            self._pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr")
            self._shaping_rtl = rtl

    def _lines(self, text: str, width: float, line_height: float) -> None:
        """``text`` wrapped in ``width`` mm from the current position; then the next line."""
        from fpdf.enums import XPos, YPos
        self._direction(text)
        self._pdf.multi_cell(width, line_height, text, align=self._align,
                             new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _label(self, label: Label, width: float, *, size: float = 8,
               color: tuple[int, int, int] = GREY) -> None:
        """A label's texts, one under the other from the current x, the first in ``size``
        and ``color``, the others (English beside the reader's language) smaller, lighter."""
        pdf = self._pdf
        left = pdf.get_x()
        for i, line in enumerate(label_lines(label)):
            pdf.set_x(left)
            pdf.set_font(self.family, size=size if i == 0 else size - 1)
            pdf.set_text_color(*(color if i == 0 else LIGHT_GREY))
            self._lines(line, width, size * 0.55 if i == 0 else (size - 1) * 0.55)
        pdf.set_text_color(0, 0, 0)

    # -- content -------------------------------------------------------------------------

    def add_page(self) -> None:
        self._pdf.add_page()

    def space(self, height: float) -> None:
        """Leave ``height`` mm of blank space."""
        self._pdf.ln(height)

    def heading(self, text: Label, *, size: float = 16, line_height: float = 9) -> None:
        """A heading; a bilingual one has its other languages under it, smaller and grey."""
        lines = label_lines(text)
        self._pdf.set_font(self.family, size=size)
        self._lines(lines[0], self.width, line_height)
        if lines[1:]:
            self._pdf.set_x(self._pdf.l_margin)
            self._label(lines[1:], self.width, size=size * 0.6, color=LIGHT_GREY)

    def paragraph(self, text: str, *, size: float = 9, line_height: float = 5,
                  color: tuple[int, int, int] | None = None) -> None:
        """Running text, wrapped to the page width (``color``: RGB for this text only)."""
        self._pdf.set_font(self.family, size=size)
        if color is not None:
            self._pdf.set_text_color(*color)
        self._lines(text, self.width, line_height)
        if color is not None:
            self._pdf.set_text_color(0, 0, 0)

    def rows(self, rows: Iterable[tuple[Label, str]], *, image: bytes | None = None,
             image_size: float = 36, gap: float = 4) -> None:
        """Label/value pairs, a small grey label (or bilingual label) over each value; rows
        with no value are left out. ``image`` (PNG bytes, e.g. a QR code) sits beside them,
        at the top, on the trailing side (right, or left in a right-to-left document)."""
        pdf = self._pdf
        top = pdf.get_y()
        beside = image_size + gap if image is not None else 0
        text_w = self.width - beside
        left = pdf.l_margin + (beside if self.rtl else 0)
        for label, value in rows:
            if not value:
                continue
            pdf.set_x(left)
            self._label(label, text_w)
            pdf.set_x(left)
            pdf.set_font(self.family, size=11)
            pdf.set_text_color(0, 0, 0)
            self._lines(value, text_w, 5.5)
            pdf.ln(1)
        bottom = pdf.get_y()
        if image is not None:
            x = pdf.l_margin if self.rtl else pdf.l_margin + self.width - image_size
            pdf.image(io.BytesIO(image), x=x, y=top, w=image_size, h=image_size)
            pdf.set_y(max(bottom, top + image_size) + 3)

    def boxed(self, label: str, value: str, *, size: float = 28) -> None:
        """A value to be read out or typed (a code), large, in a box under its label.
        The value is set in Noto Sans: codes are Latin letters and digits."""
        from fpdf.enums import Align, XPos, YPos
        pdf = self._pdf
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.5)
        pdf.set_font(self.family, size=10)
        self._direction(label)
        pdf.cell(self.width, 7, label, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(fonts.DEFAULT_FAMILY, size=size)
        pdf.cell(self.width, size / 2, value, border=1, align=Align.C,
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, header: Sequence[Label], rows: Iterable[Sequence[str]],
              widths: Sequence[float], *, size: float = 9) -> None:
        """A ruled table: a header row of (bilingual) labels, then ``rows`` of texts.
        ``widths`` are relative; in a right-to-left document the first column is the
        rightmost. Each cell is shaped in its own direction; a row that does not fit on the
        page starts the next one, under the header again."""
        pdf = self._pdf
        total = sum(widths)
        columns = [self.width * w / total for w in widths]
        order = list(range(len(columns)))
        if self.rtl:
            order.reverse()
        pad, line_height = 1.2, size * 0.5

        def height(cell: Label, width: float, cell_size: float) -> float:
            found = 0.0
            for i, line in enumerate(label_lines(cell) or ("",)):
                self._direction(line)
                pdf.set_font(self.family, size=cell_size if i == 0 else cell_size - 1)
                found += pdf.multi_cell(width - 2 * pad, line_height, line, dry_run=True,
                                        output="HEIGHT")
            return found

        def draw(cells: Sequence[Label], *, head: bool) -> None:
            cell_size = size - 1 if head else size
            tallest = 2 * pad + max(height(c, w, cell_size)
                                    for c, w in zip(cells, columns, strict=True))
            if pdf.get_y() + tallest > pdf.page_break_trigger:
                pdf.add_page()
                if not head:
                    draw(header, head=True)
            top, x = pdf.get_y(), pdf.l_margin
            pdf.set_draw_color(160, 160, 160)
            pdf.set_line_width(0.2)
            for i in order:
                if head:
                    pdf.set_fill_color(238, 241, 240)
                pdf.rect(x, top, columns[i], tallest, style="DF" if head else "D")
                pdf.set_xy(x + pad, top + pad)
                self._label(cells[i], columns[i] - 2 * pad, size=cell_size,
                            color=(0, 0, 0) if not head else (40, 40, 40))
                x += columns[i]
            pdf.set_xy(pdf.l_margin, top + tallest)

        auto_break = pdf.auto_page_break
        pdf.set_auto_page_break(False, pdf.b_margin)  # the rows break pages themselves
        try:
            draw(header, head=True)
            for row in rows:
                draw(row, head=False)
        finally:
            pdf.set_auto_page_break(auto_break, pdf.b_margin)
        pdf.ln(2)

    def rule(self, gap: float = 2) -> None:
        """A thin line across the page, ``gap`` mm above and below."""
        pdf = self._pdf
        pdf.ln(gap)
        pdf.set_draw_color(180, 180, 180)
        pdf.set_line_width(0.3)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.width, pdf.get_y())
        pdf.ln(gap)

    def banner(self, text: Label, *, fill: tuple[int, int, int],
               color: tuple[int, int, int] = (0, 0, 0), size: float = 11) -> None:
        """A statement on a coloured band across the page (a certificate's status)."""
        pdf = self._pdf
        lines = label_lines(text)
        pad = 2
        inner = self.width - 2 * pad
        tall = 0.0
        for i, line in enumerate(lines):
            self._direction(line)
            pdf.set_font(self.family, size=size if i == 0 else size - 2)
            tall += pdf.multi_cell(inner, (size if i == 0 else size - 2) * 0.5, line,
                                   dry_run=True, output="HEIGHT")
        top = pdf.get_y()
        pdf.set_fill_color(*fill)
        pdf.rect(pdf.l_margin, top, self.width, tall + 2 * pad, style="F")
        pdf.set_xy(pdf.l_margin + pad, top + pad)
        for i, line in enumerate(lines):
            pdf.set_x(pdf.l_margin + pad)
            pdf.set_font(self.family, size=size if i == 0 else size - 2)
            pdf.set_text_color(*color)
            self._lines(line, inner, (size if i == 0 else size - 2) * 0.5)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(top + tall + 2 * pad + 2)

    def image(self, png: bytes, *, size: float, centred: bool = True) -> None:
        """A square image (PNG bytes) on its own, centred or on the leading side."""
        pdf = self._pdf
        if centred:
            x = pdf.l_margin + (self.width - size) / 2
        else:
            x = pdf.l_margin + self.width - size if self.rtl else pdf.l_margin
        pdf.image(io.BytesIO(png), x=x, y=pdf.get_y(), w=size, h=size)
        pdf.set_y(pdf.get_y() + size)

    def output(self) -> bytes:
        return bytes(self._pdf.output())
