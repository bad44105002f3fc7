"""When a campaign's codes are valid, checked where the dates are made (plan, issue, re-issue).

A code is valid from the day its letter is sent (the wave's send date, or the day the code is issued
when the wave has none) for ``validity_days``, or until the campaign's fixed ``valid_until``. A code
that would already be expired, or not valid on the day its letter is sent, is refused with what to
change: the letter would otherwise print "valid from 2 December 2026 to 15 September 2020".
"""

from __future__ import annotations

import datetime as dt

from courrier.errors import ConflictError


def code_period(
    validity_days: int | None, valid_until: dt.date | None, send_date: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """``(valid_from, valid_until)`` of a code for a letter sent on ``send_date`` (today if unknown).

    ``validity_days`` counts from the send date: sent on the 18th with 14 days, valid through the 1st
    of the next month (18 + 14). A fixed end is the campaign's current ``valid_until``.
    """
    valid_from = send_date or today
    if validity_days is not None:
        return valid_from, valid_from + dt.timedelta(days=validity_days)
    assert valid_until is not None
    return valid_from, valid_until


def require_valid_period(
    campaign: str,
    validity_days: int | None,
    valid_until: dt.date | None,
    send_date: dt.date | None,
    today: dt.date,
    what: str,
) -> tuple[dt.date, dt.date]:
    """The code period, or a refusal: ``code_expired`` when it ends before today,
    ``code_not_valid_when_sent`` when it ends before the letter is sent."""
    valid_from, until = code_period(validity_days, valid_until, send_date, today)
    if validity_days is None:
        fix = f"extend the campaign first: `courrier campaign extend {campaign} --until YYYY-MM-DD`"
    else:
        fix = (
            "give the campaign a [waves] start from today on"
            " (or none: letters dated the day codes are issued)"
        )
    if until < today:
        raise ConflictError(
            f"{what}: its code would be valid from {valid_from} to {until}, already expired today"
            f" ({today}); {fix}",
            code="code_expired",
        )
    if until < valid_from:
        raise ConflictError(
            f"{what}: the letter is sent on {valid_from} but its code would be valid only until"
            f" {until}; {fix}",
            code="code_not_valid_when_sent",
        )
    return valid_from, until
