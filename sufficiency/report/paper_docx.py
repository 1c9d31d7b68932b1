"""The cabinet paper as a Word document (``outputs/<run>/cabinet.docx``), with python-docx.

Renders a :class:`~sufficiency.report.paper.Paper` block by block: headings, paragraphs
(a bold lead where given), numbered and bulleted lists, tables (header row repeated on
each page, numbers right-aligned, a bold total row) and the map figure. A4 portrait with
2 cm margins, so every table fits the page. Text goes into Word as text (python-docx
escapes it as XML): a name can never become markup or a field.

Determinism: the core properties (created, modified, author, revision) are fixed, and
every zip entry is rewritten with one fixed date, so the same paper gives the same bytes.
python-docx is imported inside :func:`paper_docx_bytes`, so importing this module is cheap.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the paper module imports this one to write the file
    from sufficiency.report.paper import Figure, Items, Paper, Paragraph, Table

FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
PAGE_CM = (21.0, 29.7)  # A4 portrait
MARGIN_CM = 2.0
FIGURE_CM = 16.0
TABLE_PT, NOTE_PT = 9, 8
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


def xml_text(text: str) -> str:
    """``text`` with the characters XML cannot hold (control codes) replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", text)


def _page(document) -> None:
    """A4 portrait with 2 cm margins."""
    from docx.shared import Cm

    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))


def _properties(document, title: str) -> None:
    """Fixed core properties: no time or user of the machine that wrote it."""
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, "sufficiency", "sufficiency"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    props.comments = ""


def _paragraph(document, block: Paragraph) -> None:
    paragraph = document.add_paragraph()
    if block.lead:
        paragraph.add_run(xml_text(block.lead) + " ").bold = True
    paragraph.add_run(xml_text(block.text))


def _items(document, block: Items) -> None:
    style = "List Number" if block.numbered else "List Bullet"
    for item in block.items:
        document.add_paragraph(xml_text(item), style=style)


def _repeat_header(row) -> None:
    """Mark a table row as a header row, repeated at the top of each page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _fill(cell, text: str, *, bold: bool, right: bool) -> None:
    """One cell: its text in the table font, bold or right-aligned as asked."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(xml_text(text))
    run.bold = bold
    run.font.size = Pt(TABLE_PT)
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _table(document, block: Table) -> None:
    from docx.shared import Pt

    caption = document.add_paragraph()
    caption.add_run(xml_text(block.caption)).bold = True
    table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = "Table Grid"
    for k, text in enumerate(block.header):
        _fill(table.rows[0].cells[k], text, bold=True, right=block.numeric[k])
    _repeat_header(table.rows[0])
    last = len(block.rows)
    for r, values in enumerate(block.rows, start=1):
        bold = block.total and r == last
        for k, text in enumerate(values):
            _fill(table.rows[r].cells[k], text, bold=bold, right=block.numeric[k])
    if block.note:
        note = document.add_paragraph()
        note.add_run(xml_text(block.note)).font.size = Pt(NOTE_PT)


def _figure(document, block: Figure) -> None:
    from docx.shared import Cm, Pt

    document.add_picture(io.BytesIO(block.png), width=Cm(FIGURE_CM))
    caption = document.add_paragraph()
    caption.add_run(xml_text(block.caption)).font.size = Pt(NOTE_PT)


RENDERERS = {"paragraph": _paragraph, "items": _items, "table": _table, "figure": _figure}


def fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated ZIP_TIME (python-docx stamps the current time)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def paper_docx_bytes(paper: Paper) -> bytes:
    """cabinet.docx as bytes: the same paper always gives the same bytes."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    _page(document)
    _properties(document, xml_text(paper.title))
    document.add_heading(xml_text(paper.title), level=0)
    document.add_paragraph(xml_text(paper.subtitle))
    for section in paper.sections:
        document.add_heading(section.title, level=1)
        for block in section.blocks:
            RENDERERS[block.kind](document, block)
    closing = document.add_paragraph()
    closing.add_run(paper.closing).font.size = Pt(NOTE_PT)
    buffer = io.BytesIO()
    document.save(buffer)
    return fixed_zip(buffer.getvalue())

