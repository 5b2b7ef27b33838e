"""Roles and what each may do: one table, read by the console and the CLI alike."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    QUALITY_MANAGER = "quality_manager"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Permission(StrEnum):
    VIEW = "view"  # complaint list and pages
    DECIDE = "decide"  # sign decisions
    AUDIT = "audit"  # browse the audit log, proofs, verify
    MANAGE_USERS = "manage_users"


# Separation of duties: auditors read and never decide; administrators manage accounts and
# never decide either, so an administrator cannot create an account and sign with it.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.VIEW, Permission.DECIDE, Permission.AUDIT}),
    Role.QUALITY_MANAGER: frozenset({Permission.VIEW, Permission.DECIDE, Permission.AUDIT}),
    Role.AUDITOR: frozenset({Permission.VIEW, Permission.AUDIT}),
    Role.ADMINISTRATOR: frozenset({Permission.VIEW, Permission.AUDIT, Permission.MANAGE_USERS}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]
