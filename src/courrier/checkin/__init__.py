"""The centre's side: reception check-in, the day's list, the vaccination record.

``policy`` holds a campaign's check-in rules (tolerances, walk-ins); ``reading`` turns what a desk read
(a confirmation QR, an invitation QR or signed token, a typed code or booking reference) into who it is;
``desk`` checks a person in (one idempotent transaction keyed by a nonce); ``day`` gives a centre's day
(expected, arrived, no-shows, the offline list) and releases no-show places; ``vaccinations`` records
the dose given, its corrections and a person's history; ``valuesets`` reads the EU DCC value sets.
"""
