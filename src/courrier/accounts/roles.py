"""Staff roles and their scopes.

admin        everything, including staff accounts
operator     the print shop: requests, re-issues, production
ministry     aggregates only (dashboards), never a person
helpline     finds a caller by code and books, moves or cancels for them
reception    a centre's desk (scoped to one centre)
physician    a centre's vaccination record (scoped to one centre)
establishment  a hotel or shop redeeming vouchers (scoped to one establishment)
"""

from __future__ import annotations

from courrier.errors import AccountError

ROLES = ("admin", "operator", "ministry", "helpline", "reception", "physician", "establishment")
CENTRE_ROLES = frozenset({"reception", "physician"})
ESTABLISHMENT_ROLES = frozenset({"establishment"})


def check_scope(role: str, centre_id: str | None, establishment_id: str | None) -> None:
    """A role gets exactly the scope it needs: a centre for reception and physician, an establishment
    for establishment accounts, neither for the others."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})", code="unknown_role")
    if role in CENTRE_ROLES and not centre_id:
        raise AccountError(f"a {role} account needs --centre", code="scope_required")
    if role in ESTABLISHMENT_ROLES and not establishment_id:
        raise AccountError(f"an {role} account needs --establishment", code="scope_required")
    if centre_id and role not in CENTRE_ROLES:
        raise AccountError(f"a {role} account has no centre", code="scope_not_allowed")
    if establishment_id and role not in ESTABLISHMENT_ROLES:
        raise AccountError(f"a {role} account has no establishment", code="scope_not_allowed")
