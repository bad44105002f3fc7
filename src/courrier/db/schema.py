"""Core tables. Each area owns a section; migrations in ``migrations/versions`` create them.

A test compares this metadata with the migrated database, so the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from courrier.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- register -------------------------------------------------------------------------------------

register_imports = Table(
    "register_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("source", String(8), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # An import commits chunk by chunk; an interrupted one is resumed after its last committed chunk.
    Column("chunk_rows", Integer, nullable=False),
    Column("chunks_done", Integer, nullable=False, default=0),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("national_id", String(13), nullable=False, unique=True),
    Column("source", String(8), nullable=False),
    Column("family_name", Text, nullable=False),
    Column("given_names", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("language", String(2), nullable=False),
    Column("care_of", Text, nullable=False),
    Column("house_number", Text, nullable=False),
    Column("street", Text, nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("locality", Text, nullable=False),
    Column("country", String(2), nullable=False),
    # The Luxembourg commune the postcode belongs to (empty abroad or when unknown): cohorts filter on it.
    Column("commune", Text, nullable=False, default=""),
    Column("deceased", Boolean, nullable=False, default=False),
    Column("address_unknown", Boolean, nullable=False, default=False),
    Column("last_import_id", Integer, ForeignKey("register_imports.id"), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    # Comma-separated names of the fields the last import changed; empty when it inserted the row.
    Column("changed_fields", Text, nullable=False, default=""),
)

# What an import rejected, kept so an interrupted import can be resumed and its report written again.
register_rejects = Table(
    "register_rejects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("register_imports.id"), nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("national_id", String(13), nullable=False),
    Column("field", Text, nullable=False),
    Column("reason", Text, nullable=False),
)

# --- campaigns and codes --------------------------------------------------------------------------

# A template folder and its exact content (sha256 over its sorted relative paths and bytes): every letter
# can be traced to the template that made it; a changed folder is a new version.
template_versions = Table(
    "template_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # JSON {relative path: sha256} of the folder's files, so a changed folder can name what changed.
    Column("files", Text),
    UniqueConstraint("path", "sha256"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    # The campaign file as given, so the cohort and wave plan can be read back exactly.
    Column("definition", Text, nullable=False),
    Column("template_version_id", Integer, ForeignKey("template_versions.id"), nullable=False),
    Column("languages", Text, nullable=False),
    # Code policy: valid ``validity_days`` from the wave's send date (not extendable), or until a fixed
    # ``valid_until`` (extendable for the whole campaign).
    Column("validity_days", Integer),
    Column("valid_until", Date),
    Column("max_uses", Integer, nullable=False),
    Column("qr_content", Text, nullable=False),
    Column("qr_signed", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Absolute folder of the campaign's print files, fixed when it is first composed.
    Column("output_folder", Text),
    # When ``courrier purge`` removed the campaign's personal data (its counts are in campaign_stats).
    Column("purged_at", UTCDateTime),
)

waves = Table(
    "waves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("send_date", Date),
    Column("size", Integer, nullable=False),
    # planned → composing → composed (→ printed, posted): pieces are only withdrawn while planned.
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("campaign_id", "number"),
)

# Codes are inserted before their pieces point at them; ``piece_id`` (the piece a code was first issued
# for) is therefore a plain indexed column, the foreign key runs from ``pieces.code_id``.
codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("piece_id", Integer, nullable=False, unique=True),
    # Keyed HMAC-SHA256 of the code (truncated): the only way to find a code; the key is not in the database.
    Column("hmac", LargeBinary(16), nullable=False, unique=True),
    # AES-256-GCM of the code, so the same code can be printed again.
    Column("ciphertext", LargeBinary, nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("uses", Integer, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

pieces = Table(
    "pieces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    # Re-issue pieces belong to no wave.
    Column("wave_id", Integer, ForeignKey("waves.id"), index=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("sequence", Integer),
    # 0 for the piece planned in a wave, 1, 2... for re-issues: one piece per person per campaign, plus
    # re-issues, each pointing at the piece it replaces.
    Column("reissue_number", Integer, nullable=False),
    Column("reissue_of", Integer, ForeignKey("pieces.id")),
    Column("state", String(12), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id"), index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("campaign_id", "person_id", "reissue_number"),
)

# One row per use of a code (a booking, a dose, a redemption). Backs the guarded UPDATE of codes.uses
# (one row per use number) and makes a retried use idempotent (one row per nonce, holding its answer).
code_uses = Table(
    "code_uses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False),
    Column("use_number", Integer, nullable=False),
    # The caller's idempotency key (a scan's nonce, a request id); NULL when the caller sent none.
    Column("nonce", String(64)),
    Column("piece_id", Integer, ForeignKey("pieces.id")),
    Column("actor", Text, nullable=False),
    Column("used_at", UTCDateTime, nullable=False),
    UniqueConstraint("code_id", "use_number", name="uq_code_uses_use_number"),
    UniqueConstraint("code_id", "nonce", name="uq_code_uses_nonce"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    # Dotted: code.issued, code.reissued, code.revoked, campaign.extended, piece.withdrawn...
    Column("type", String(40), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), index=True),
    Column("piece_id", Integer, ForeignKey("pieces.id"), index=True),
    Column("code_id", Integer, ForeignKey("codes.id"), index=True),
    Column("reason", Text),
    # JSON object.
    Column("details", Text),
)

# --- print production -----------------------------------------------------------------------------

# One print file with its manifest, inserter control file and ticket. A reprint job (``J000123.R1``)
# points at the job whose pieces it reprints.
print_jobs = Table(
    "print_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("wave_id", Integer, ForeignKey("waves.id"), index=True),
    Column("reprint_of", Integer, ForeignKey("print_jobs.id")),
    Column("template_version_id", Integer, ForeignKey("template_versions.id"), nullable=False),
    Column("domestic", Boolean, nullable=False),
    # planned → composed → printed → inserted (results read) → posted
    Column("state", String(16), nullable=False),
    Column("pieces", Integer, nullable=False),
    Column("sheets", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("pdf_sha256", String(64)),
    Column("folder", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Which piece is in which job, in presort order. A piece is in its original job and in any reprint job.
job_pieces = Table(
    "job_pieces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("print_jobs.id"), nullable=False),
    Column("piece_id", Integer, ForeignKey("pieces.id"), nullable=False, index=True),
    Column("sequence", Integer, nullable=False),
    Column("bundle", String(16), nullable=False),
    Column("pages", Integer),
    Column("sheets", Integer),
    # The country the letter was addressed to when it was composed (the posting statement counts what
    # was printed, not where the person lives now); empty for a letter not in the print file.
    Column("country", String(2)),
    # Set when composing the letter failed (text_overflow, missing_glyph...): it is not in the PDF.
    Column("error_code", String(40)),
    Column("error_message", Text),
    UniqueConstraint("job_id", "sequence"),
    UniqueConstraint("job_id", "piece_id", name="uq_job_pieces_job_id_piece_id"),
)

# Every record of every inserter results file, with what was done with it.
inserter_results = Table(
    "inserter_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("job_id", Integer, ForeignKey("print_jobs.id"), index=True),
    Column("piece_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reported_at", Text, nullable=False),
    Column("machine", Text, nullable=False),
    # applied, or why not: duplicate, unknown_piece, other_job, not_allowed
    Column("outcome", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Production steps running now (compose of a wave, a reprint, reading an inserter results file): one row
# per step, inserted before it starts and deleted when it ends, so that a second one at once is refused
# (courrier.production.locks). A row left by a killed process names it: host and pid.
step_locks = Table(
    "step_locks",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("actor", Text, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
)

# --- web services: staff accounts, centres and slots, bookings, requests ----------------------------

# Staff who sign in to the web pages or the API. ``centre_id`` scopes reception and physician accounts,
# ``establishment_id`` scopes establishment accounts; the others see everything their role allows.
staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    # argon2id (pwdlib); never the password itself.
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("centre_id", String(32)),
    Column("establishment_id", String(32)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Server-side staff sessions: the browser's cookie (or the API's Bearer token) holds a random token; the
# database holds only its sha256, so a copy of the database signs nobody in.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", LargeBinary(32), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
)

# Every view or change of personal data by staff: who, when, what, about whom.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    # Dotted: code.viewed, booking.created, booking.moved, booking.cancelled, request.approved...
    Column("action", String(40), nullable=False),
    Column("subject", Text, nullable=False),
    # JSON object.
    Column("details", Text),
)

# Failures of anything that can be guessed (a staff password, a personal code), counted per client and per
# target in the database so that a limit holds across server workers and restarts.
throttle_counters = Table(
    "throttle_counters",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime),
)

centres = Table(
    "centres",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("commune", Text, nullable=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("people_per_slot", Integer, nullable=False),
    # JSON: {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], ...}
    Column("opening_hours", Text, nullable=False),
    # JSON: ["2021-02-15", ...]
    Column("closed_days", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A campaign's booking rules: the dose-2 window after dose 1, whether dose 2 may still be booked once the
# code's validity is over, and the health questions asked before a slot.
booking_policies = Table(
    "booking_policies",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("doses", Integer, nullable=False),
    Column("dose2_min_days", Integer, nullable=False),
    Column("dose2_max_days", Integer, nullable=False),
    Column("dose2_after_expiry", Boolean, nullable=False),
    # JSON list of questions (see booking/policy.py).
    Column("questions", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ``taken`` only ever moves through the guarded UPDATE in booking/bookings.py (never above ``capacity``).
slots = Table(
    "slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("centre_id", String(32), ForeignKey("centres.id"), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("taken", Integer, nullable=False),
    UniqueConstraint("campaign_id", "centre_id", "starts_at", name="uq_slots_campaign_centre_start"),
)

# ``active_dose`` is the dose while the booking is active and NULL once cancelled: the UNIQUE constraint
# on (code_id, active_dose) is "one active booking per code and dose" on both databases (NULLs differ).
bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("dose", Integer, nullable=False),
    Column("slot_id", Integer, ForeignKey("slots.id"), nullable=False, index=True),
    Column("state", String(12), nullable=False),
    Column("active_dose", Integer),
    Column("idempotency_key", String(64)),
    # JSON: the health answers given.
    Column("answers", Text, nullable=False),
    Column("booked_by", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Set once by the check-in's guarded UPDATE (``checkin/``), and when the vaccination is recorded.
    Column("checked_in_at", UTCDateTime),
    Column("done_at", UTCDateTime),
    UniqueConstraint("code_id", "active_dose", name="uq_bookings_code_id_active_dose"),
    UniqueConstraint("code_id", "idempotency_key", name="uq_bookings_code_id_idempotency_key"),
)

# "I did not get my letter" (kind ``resend``) and "I missed my phase" (kind ``waiting_list``): what the
# person typed, the person it matched (if any, never shown to them), and the print shop's decision.
letter_requests = Table(
    "letter_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("national_id", String(13), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id")),
    # pending → approved | rejected (resend); waiting → planned | refused (waiting list)
    Column("state", String(12), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decided_by", Text),
    Column("outcome", Text),
    # The piece it gave: the re-issue of an approved re-send, the wave piece of a planned waiting list.
    Column("piece_id", Integer, ForeignKey("pieces.id")),
)

# --- the centre: check-in and the vaccination record (checkin/) -------------------------------------

# A campaign's check-in rules: how early before its slot and how late after it a person may check in, and
# whether people without a booking (walk-ins) are taken. Without a row: 30 and 60 minutes, no walk-ins.
checkin_policies = Table(
    "checkin_policies",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("early_minutes", Integer, nullable=False),
    Column("late_minutes", Integer, nullable=False),
    Column("walk_ins", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per check-in at a reception desk. The booking's one check-in is taken by the guarded UPDATE of
# ``bookings.checked_in_at``; UNIQUE (centre_id, nonce) makes a retried scan the same check-in, and
# UNIQUE (code_id, walk_in_dose) one walk-in per code and dose (NULL for booked check-ins).
checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("centre_id", String(32), ForeignKey("centres.id"), nullable=False),
    Column("booking_id", Integer, ForeignKey("bookings.id"), index=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("dose", Integer, nullable=False),
    Column("walk_in_dose", Integer),
    # arrived → done (the vaccination is recorded)
    Column("state", String(12), nullable=False),
    Column("desk", String(32), nullable=False),
    Column("checked_in_by", String(64), nullable=False),
    # When the person was scanned (an offline desk's queued scan keeps its own time), and when stored.
    Column("checked_in_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("centre_id", "nonce", name="uq_checkins_centre_id_nonce"),
    UniqueConstraint("code_id", "walk_in_dose", name="uq_checkins_code_id_walk_in_dose"),
)

# The vaccination record, never updated: a correction is a new row that ``supersedes`` the old one
# (UNIQUE: one correction per record, so the history is a chain). Product, manufacturer and prophylaxis
# are codes of the EU DCC value sets (data/dcc/valuesets/).
vaccinations = Table(
    "vaccinations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nonce", String(64), nullable=False, unique=True),
    Column("checkin_id", Integer, ForeignKey("checkins.id"), nullable=False, index=True),
    Column("booking_id", Integer, ForeignKey("bookings.id")),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("centre_id", String(32), ForeignKey("centres.id"), nullable=False),
    Column("product", String(32), nullable=False),
    Column("manufacturer", String(32), nullable=False),
    Column("prophylaxis", String(32), nullable=False),
    Column("lot", String(32), nullable=False),
    Column("dose_number", Integer, nullable=False),
    Column("series_doses", Integer, nullable=False),
    Column("given_at", UTCDateTime, nullable=False),
    Column("physician", String(64), nullable=False),
    Column("supersedes", Integer, ForeignKey("vaccinations.id"), unique=True),
    Column("reason", Text),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# --- retention (production/purge.py) ----------------------------------------------------------------

# What a campaign's purge keeps: counts, never a person. One row per measure and cell (day, wave, place:
# a centre or an establishment, dose, detail: a state, an event type...), the cells the aggregates have.
campaign_stats = Table(
    "campaign_stats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("measure", String(24), nullable=False),
    Column("day", Date),
    Column("wave", Integer),
    Column("place", String(32)),
    Column("dose", Integer),
    Column("detail", String(40), nullable=False),
    Column("count", Integer, nullable=False),
)

# --- vouchers: establishments and redemptions (courrier.vouchers) --------------------------------------

# Hotels, campsites, youth hostels and holiday homes that take the vouchers. ``id`` scopes establishment
# staff accounts (``staff_users.establishment_id``). Only ``approved`` ones redeem; a registration form's
# establishment is ``pending`` until an operator approves it. ``commune`` and ``region`` (its canton) are
# what the ministry's aggregates group by; the IBAN is checked (schwifty) and stored compact, upper case.
# ``language`` (fr, de, en, pt, lb) is the one its reimbursement statements are printed in.
establishments = Table(
    "establishments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    # hotel, campsite, youth_hostel, holiday_home
    Column("kind", String(16), nullable=False),
    Column("licence_number", String(32), nullable=False, unique=True),
    Column("address", Text, nullable=False),
    Column("postcode", String(8), nullable=False),
    Column("commune", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("iban", String(34), nullable=False),
    Column("contact", Text, nullable=False),
    Column("language", String(2), nullable=False, server_default="fr"),
    # pending, approved
    Column("status", String(12), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per redemption of a voucher at an establishment, never deleted: an undo sets ``undone_at``.
# The voucher's one use is taken by the ledger's guarded UPDATE of ``codes.uses``; UNIQUE ``live_code_id``
# (the code while the redemption stands, NULL once undone) backs it, and UNIQUE ``nonce`` makes a retried
# scan the same redemption with the first answer. ``amount_cents`` is the voucher's value when redeemed.
redemptions = Table(
    "redemptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nonce", String(64), nullable=False, unique=True),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False, index=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("establishment_id", String(32), ForeignKey("establishments.id"), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("stay_from", Date, nullable=False),
    Column("stay_to", Date, nullable=False),
    # The establishment's own booking reference.
    Column("reference", String(64), nullable=False),
    Column("redeemed_by", String(64), nullable=False),
    Column("redeemed_at", UTCDateTime, nullable=False, index=True),
    Column("undone_at", UTCDateTime),
    Column("undone_by", String(64)),
    Column("live_code_id", Integer, unique=True),
)

# --- vouchers: reimbursement statements (courrier.vouchers.statements) -----------------------------------

# One run of `courrier vouchers statements --period FROM..TO`: its statements and its one SEPA file. Runs
# go forward in time (a period starts after the last one ended); UNIQUE (period_from, period_to) makes a
# second run of a period the first one. The payer's account is kept as the file was made from it.
statement_runs = Table(
    "statement_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("execution_date", Date, nullable=False),
    Column("payer_name", Text, nullable=False),
    Column("payer_iban", String(34), nullable=False),
    Column("payer_bic", String(11), nullable=False),
    Column("folder", Text, nullable=False),
    Column("statements", Integer, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    # Set once the file is written; a file that no longer matches it is never silently replaced.
    Column("sepa_sha256", String(64)),
    UniqueConstraint("period_from", "period_to", name="uq_statement_runs_period"),
)

# An establishment's statement of a run, never changed once issued: the establishment as it was named then
# (an IBAN or a language changed later does not change it), its number of lines and total, and its files'
# sha256.
statements = Table(
    "statements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("statement_runs.id"), nullable=False),
    Column("number", String(32), nullable=False, unique=True),
    Column("establishment_id", String(32), ForeignKey("establishments.id"), nullable=False, index=True),
    Column("payee_name", Text, nullable=False),
    Column("payee_iban", String(34), nullable=False),
    Column("payee_licence", String(32), nullable=False),
    Column("payee_address", Text, nullable=False),
    Column("payee_postcode", String(8), nullable=False),
    Column("payee_locality", Text, nullable=False),
    # The language the statement was printed in (its establishment's then).
    Column("payee_language", String(2), nullable=False, server_default="fr"),
    Column("lines", Integer, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("pdf_sha256", String(64)),
    Column("csv_sha256", String(64)),
    UniqueConstraint("run_id", "establishment_id", name="uq_statements_run_id_establishment_id"),
)

# A statement's lines: a redemption (its amount), or the correction of one undone after it was on a
# statement (the amount negative). UNIQUE (redemption_id, kind): a redemption is paid once and corrected
# once, whatever runs at once. No foreign key to redemptions: purging a campaign deletes its redemptions,
# and a statement (which holds no person) stays as it was issued.
statement_lines = Table(
    "statement_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("statement_id", Integer, ForeignKey("statements.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("redemption_id", Integer, nullable=False),
    Column("on_date", Date, nullable=False),
    Column("stay_from", Date, nullable=False),
    Column("stay_to", Date, nullable=False),
    Column("reference", String(64), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("corrects", String(32), nullable=False),
    UniqueConstraint("statement_id", "line", name="uq_statement_lines_statement_id_line"),
    UniqueConstraint("redemption_id", "kind", name="uq_statement_lines_redemption_id_kind"),
)

# --- long work started from the operator's page ----------------------------------------------------

# A compose, a reprint or a large inserter results file started from the operator's page and run by a
# `courrier tasks run` worker (see courrier.production.tasks). ``active_key`` names what the task works
# on (``compose:CAMPAIGN:wave:1``) while it is queued or running and is NULL once it ended: UNIQUE, so a
# second start of the same work is refused by the database, whichever server worker takes it.
operator_tasks = Table(
    "operator_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("params", Text, nullable=False),
    Column("active_key", String(160), unique=True),
    Column("state", String(16), nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("worker", Text),
    Column("host", Text),
    Column("pid", Integer),
    Column("phase", String(32), nullable=False),
    Column("current", Text),
    Column("unit", String(16)),
    Column("done", Integer, nullable=False),
    Column("total", Integer),
    Column("jobs_done", Integer, nullable=False),
    Column("jobs_total", Integer),
    Column("counting_since", UTCDateTime),
    Column("result", Text),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("error_facts", Text),
    # A failed or interrupted task an operator marked as dealt with: pruned by age from then on.
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(64)),
)

# The file a results task reads (at most the results reader's 16 MB), in the database so that the
# worker needs no folder shared with the web servers; deleted when the task ends.
operator_task_files = Table(
    "operator_task_files",
    metadata,
    Column("task_id", Integer, ForeignKey("operator_tasks.id"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# The `courrier tasks run` processes alive, each seen at most a few seconds ago: the page says when a
# task waits with no worker to take it.
task_workers = Table(
    "task_workers",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)
