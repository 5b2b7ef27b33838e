"""Who may use Closeloop: users, roles, password hashes, sessions and TOTP (layer 2).

The tables live in the same database as the audit log but outside its append-only tables,
because users change (disable, reset) while the log must not; every change is also an
audit entry, so the log still tells who could do what and when.
"""
