"""Booking with the personal code: code entry (forgiving, throttled), the citizen's session token, and
bookings that never overbook a slot nor give a code two active bookings for one dose."""
