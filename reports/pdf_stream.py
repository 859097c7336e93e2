"""A reportlab canvas that writes each finished page to its file at once (label sheets).

Reportlab's ``PDFDocument`` keeps every page — its drawing operations as one uncompressed
string — until ``save()``, and then builds the whole file in memory, so a document's
memory grows with its page count: 4,167 label sheets (100,000 labels) took about 40 MiB
more than 417 (docs/benchmarks.md ``exports``). A PDF does not need its objects in any
order: the cross-reference table at the end says where each one starts. So
``StreamingCanvas`` writes a page's object and its content stream to the file when the
page is finished (``showPage``), keeps only their names and offsets, and at ``save()``
writes what is left — the page tree, the embedded font subsets (known only once every
page is drawn), the catalog, the document information — then the cross-reference table.
The file is one ordinary PDF; memory stays flat whatever the page count (a few dozen
bytes a page for the table).

Limits (checked): no encryption, and no form XObject or other shared object that a page
uses before it is defined (``reports.pdf``'s "page X of Y" form is one, so the PDF list
keeps the plain canvas); the PDF version is written first and cannot be raised later.
Built on reportlab's ``pdfdoc`` (pinned ``reportlab>=4.2,<6``): ``tests/reports``
open the files with pypdf and pdfplumber.
"""

from __future__ import annotations

from typing import BinaryIO

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

NAME = pdfdoc.__InternalName__  # the attribute reportlab keeps an object's name in


class _Written(pdfdoc.PDFObject):
    """Stands in for an object already in the file: references to it still resolve."""

    def __init__(self, name: str):
        setattr(self, NAME, name)

    def format(self, document):  # never formatted again
        raise AssertionError(f"{getattr(self, NAME)} was already written")


class _StreamingDocument(pdfdoc.PDFDocument):
    def __init__(self, file: BinaryIO, **kwargs):
        super().__init__(**kwargs)
        self._file = file
        self._offset = 0
        self._write(pdfdoc.PDFFile(self._pdfVersion).format(self))  # the header

    def _write(self, data: bytes) -> int:
        """Append ``data`` to the file; where it starts."""
        start = self._offset
        self._file.write(data)
        self._offset += len(data)
        return start

    def _write_object(self, name: str) -> None:
        obj = self.idToObject[name]
        self.idToOffset[name] = self._write(pdfdoc.PDFIndirectObject(name, obj).format(self))
        self.idToObject[name] = _Written(name)

    def addPage(self, page) -> None:
        super().addPage(page)
        name = getattr(page, NAME)
        self._write_object(name)  # formatting it names its content stream (and the tree)
        contents = page.Contents
        if isinstance(contents, pdfdoc.PDFStream) and getattr(contents, NAME, None):
            self._write_object(getattr(contents, NAME))
        self.Pages.pages[-1] = self.idToObject[name]  # the tree needs only the name

    def format(self) -> bytes:
        """Write the objects not yet written, the cross-reference table and the trailer
        (reportlab's ``PDFDocument.format`` without the in-memory file); nothing to return:
        it is all in the file."""
        if self.encrypt.info():
            raise ValueError("StreamingCanvas does not encrypt")
        self.encrypt.prepare(self)
        catalog, info = self.Reference(self.Catalog), self.Reference(self.info)
        ids, number = [], 1
        while number in self.numberToId:  # objects named while formatting are appended
            name = self.numberToId[number]
            if name not in self.idToOffset:
                self._write_object(name)
            ids.append(name)
            number += 1
        xref = pdfdoc.PDFCrossReferenceTable()
        xref.addsection(0, ids)
        start = self._write(xref.format(self))
        trailer = pdfdoc.PDFTrailer(
            startxref=start, Size=len(ids) + 1, Root=catalog, Info=info, ID=self.ID()
        )
        self._write(trailer.format(self))
        return b""


class StreamingCanvas(Canvas):
    """``Canvas(file, ...)`` whose pages go to ``file`` as they are finished."""

    def __init__(self, file: BinaryIO, *, pagesize, pageCompression: int = 1):
        super().__init__(file, pagesize=pagesize, pageCompression=pageCompression)
        self._doc = _StreamingDocument(
            file,
            compression=pageCompression,
            invariant=self._doc.invariant,
            pdfVersion=self._doc._pdfVersion,
        )
