"""What identifies a print file to a print room's preflight: XMP metadata and the Info dictionary.

Every value derives from the job, never from the clock, so the same input still gives the same bytes:

- dates (``xmp:CreateDate``, ``ModifyDate``, ``MetadataDate``, ``pdfvtid:GTS_PDFVTModDate``, Info
  ``CreationDate`` / ``ModDate``) are the job's own time, ``created_at`` given to the composer (the
  moment the job was planned), and all equal: a file is written once and never modified;
- ``xmpMM:DocumentID`` is a UUID from the job id and template name (a re-composed job is the same
  document), ``xmpMM:InstanceID`` a UUID from the digest of the file's bytes before the metadata (another
  rendition of it, say after a template fix, is another instance), ``VersionID`` 1, ``RenditionClass``
  ``default``;
- ``pdfxid:GTS_PDFXVersion`` ``PDF/X-4`` (ISO 15930-7) and ``pdfvtid:GTS_PDFVTVersion`` ``PDF/VT-1``
  (ISO 16612-2); ``pdf:Trapped`` ``False`` (nothing is trapped: text and codes are black ink only).

The XMP packet is written uncompressed, as preflight tools and ISO 15930-7 expect to find it by scanning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from courrier import __version__
from courrier.compose.pdf import Name, Value

PDFX_VERSION = "PDF/X-4"
PDFVT_VERSION = "PDF/VT-1"
PRODUCER = f"courrier {__version__}"
# A job given no time: a fixed instant, not today (bytes stay the same from one day to the next).
NO_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Identification:
    title: str
    created_at: dt.datetime
    document_id: str
    instance_id: str

    @classmethod
    def of_job(
        cls, title: str, template_name: str, created_at: dt.datetime | None, digest: bytes
    ) -> Identification:
        when = (created_at or NO_DATE).astimezone(dt.UTC).replace(microsecond=0)
        document = hashlib.sha256(f"courrier|{title}|{template_name}".encode()).digest()
        return cls(
            title,
            when,
            f"uuid:{uuid.UUID(bytes=document[:16], version=4)}",
            f"uuid:{uuid.UUID(bytes=hashlib.sha256(digest).digest()[:16], version=4)}",
        )

    @property
    def xmp_date(self) -> str:
        return self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def pdf_date(self) -> str:
        return self.created_at.strftime("D:%Y%m%d%H%M%SZ")

    def info(self) -> dict[str, Value]:
        """The Info dictionary: the same facts as the XMP (ISO 15930-7 6.7.3 wants them to agree)."""
        return {
            "Title": self.title,
            "Producer": PRODUCER,
            "Creator": PRODUCER,
            "CreationDate": self.pdf_date,
            "ModDate": self.pdf_date,
            "Trapped": Name("False"),
            "GTS_PDFXVersion": PDFX_VERSION,
        }

    def xmp(self) -> bytes:
        date = self.xmp_date
        fields = (
            ("dc:format", "application/pdf"),
            ("xmp:CreateDate", date),
            ("xmp:ModifyDate", date),
            ("xmp:MetadataDate", date),
            ("xmp:CreatorTool", PRODUCER),
            ("xmpMM:DocumentID", self.document_id),
            ("xmpMM:InstanceID", self.instance_id),
            ("xmpMM:VersionID", "1"),
            ("xmpMM:RenditionClass", "default"),
            ("pdf:Producer", PRODUCER),
            ("pdf:Trapped", "False"),
            ("pdfxid:GTS_PDFXVersion", PDFX_VERSION),
            ("pdfvtid:GTS_PDFVTVersion", PDFVT_VERSION),
            ("pdfvtid:GTS_PDFVTModDate", date),
        )
        body = "".join(f"   <{key}>{escape(value)}</{key}>\n" for key, value in fields)
        title = (
            '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{escape(self.title)}</rdf:li></rdf:Alt></dc:title>\n"
        )
        packet = (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
            '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"\n'
            '    xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/"\n'
            '    xmlns:pdfvtid="http://www.npes.org/pdfvt/ns/id/">\n'
            f"{title}{body}"
            "  </rdf:Description>\n"
            " </rdf:RDF>\n"
            "</x:xmpmeta>\n"
            '<?xpacket end="r"?>'
        )
        return packet.encode("utf-8")
