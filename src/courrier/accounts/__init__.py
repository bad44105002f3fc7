"""Staff accounts: users and roles, password hashes, server-side sessions, CSRF tokens, the audit log of
every view of personal data, and the failure counters that throttle guessing (passwords and codes)."""
