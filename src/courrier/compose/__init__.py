"""The composer: templates and records in, print-ready PDF out. Pure: it knows no database.

``load_template(path)`` reads a template folder; ``compose_job(template, records, out)`` writes one
letter per record and returns per-letter pages, sheets and errors. ``PERSON_FIELDS`` are the register
fields a record carries under ``person``.
"""

from courrier.compose.address import address_lines
from courrier.compose.job import JobResult, PieceResult, compose_job
from courrier.compose.template import PERSON_FIELDS, Template, load_template

__all__ = [
    "PERSON_FIELDS",
    "JobResult",
    "PieceResult",
    "Template",
    "address_lines",
    "compose_job",
    "load_template",
]
