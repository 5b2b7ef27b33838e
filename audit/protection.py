"""The database's own refusal to change history: triggers, and on PostgreSQL, roles.

Triggers reject UPDATE and DELETE on every audit table (SQLite and PostgreSQL) and TRUNCATE
(PostgreSQL; SQLite has none: its `DELETE FROM t` fires the DELETE trigger). On PostgreSQL
two roles are created once per cluster and granted per database:

- `closeloop_writer`: INSERT and SELECT on the audit tables, nothing else. Workers use it.
- `closeloop_auditor`: SELECT only. Auditors use it for `closeloop audit log/verify/export`.

Both are created with LOGIN and no password: set one (`ALTER ROLE … PASSWORD …`) or map
them to your authentication in `pg_hba.conf`. A superuser or the tables' owner can still
disable the triggers; the hash chain and the signed checkpoints are what catch that.

Every step checks before it acts, so `install()` is idempotent, safe to run concurrently,
and a no-op (read-only catalog queries) when run by the writer or auditor role on an
already set-up database.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from audit.similarity_index import TABLE as SIMILARITY_TABLE  # granted, not append-only
from audit.tables import AUDIT_TABLES

WRITER_ROLE = "closeloop_writer"
AUDITOR_ROLE = "closeloop_auditor"
ROLE_PRIVILEGES = {WRITER_ROLE: ("SELECT", "INSERT"), AUDITOR_ROLE: ("SELECT",)}
_FORBIDDEN = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

REFUSAL = "audit log is append-only"
_PG_FUNCTION = "closeloop_audit_append_only"
# Serializes concurrent setups of one database (advisory locks are per database).
_SETUP_LOCK_KEY = 0x436C7365  # "Clse"


def install(connection: Connection) -> list[str]:
    """Install the triggers (and roles on PostgreSQL) in the current transaction.

    Returns what was done, for `closeloop audit setup` to print.
    """
    if connection.dialect.name == "postgresql":
        return _install_postgresql(connection)
    return _install_sqlite(connection)


def _install_sqlite(connection: Connection) -> list[str]:
    done = []
    existing = set(
        connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
    )
    for table in AUDIT_TABLES:
        for operation in ("UPDATE", "DELETE"):
            name = f"{table}_no_{operation.lower()}"
            if name in existing:
                continue
            connection.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {operation} on {table} refused'); END"
            )
            done.append(f"trigger {name}")
    for name, table, condition, refusal in _ROW_RULES:
        if name in existing:
            continue
        connection.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE INSERT ON {table} "
            f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
        )
        done.append(f"trigger {name}")
    return done


# Rows the append path and the checkpointer never write, refused at the database (issue 11,
# attack 4): an entry at any seq but the next one, and a checkpoint that is not the next
# number, shrinks the tree, or covers entries that do not exist. (name, table, SQL condition
# that refuses, message.) The same conditions guard PostgreSQL below.
_NEXT_SEQ = "COALESCE((SELECT MAX(seq) FROM audit_entries), 0) + 1"
_NEXT_NUMBER = "COALESCE((SELECT MAX(number) FROM audit_checkpoints), 0) + 1"
_LAST_SIZE = "COALESCE((SELECT tree_size FROM audit_checkpoints ORDER BY number DESC LIMIT 1), 0)"
_ROW_RULES = (
    (
        "audit_entries_next_seq_only",
        "audit_entries",
        f"NEW.seq <> {_NEXT_SEQ}",
        "audit entry refused: its seq is not the next one",
    ),
    (
        "audit_checkpoints_next_only",
        "audit_checkpoints",
        f"NEW.number <> {_NEXT_NUMBER} OR NEW.tree_size < {_LAST_SIZE} "
        "OR NEW.tree_size > COALESCE((SELECT MAX(seq) FROM audit_entries), 0)",
        "audit checkpoint refused: not the next number, a smaller tree, or beyond the log",
    ),
    (
        "audit_checkpoint_notes_latest_only",
        "audit_checkpoint_notes",
        "NEW.checkpoint_number <> COALESCE((SELECT MAX(number) FROM audit_checkpoints), 0)",
        "audit checkpoint note refused: only the newest checkpoint can get its note",
    ),
    (
        "audit_checkpoint_cosignatures_latest_only",
        "audit_checkpoint_cosignatures",
        "NEW.checkpoint_number <> COALESCE((SELECT MAX(number) FROM audit_checkpoints), 0)",
        "audit cosignature refused: only the newest checkpoint can be cosigned",
    ),
)


def _install_postgresql(connection: Connection) -> list[str]:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK_KEY})
    done = []
    has_function = connection.execute(
        text("SELECT 1 FROM pg_proc WHERE proname = :name"), {"name": _PG_FUNCTION}
    ).first()
    if not has_function:
        # "%%": the driver treats "%" as a placeholder; PL/pgSQL receives "%".
        connection.exec_driver_sql(
            f"""
            CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}: %% on %% refused', TG_OP, TG_TABLE_NAME
                    USING HINT = 'Audit entries and checkpoints are never changed or removed.';
            END
            $$
            """
        )
        done.append(f"function {_PG_FUNCTION}()")
    existing = set(
        connection.execute(
            text(
                "SELECT c.relname || '.' || t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        ).scalars()
    )
    for table in AUDIT_TABLES:
        for name, timing in (
            (f"{table}_no_update_delete", "BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW"),
            (f"{table}_no_truncate", "BEFORE TRUNCATE ON {t} FOR EACH STATEMENT"),
        ):
            if f"{table}.{name}" in existing:
                continue
            connection.exec_driver_sql(
                f"CREATE TRIGGER {name} {timing.format(t=table)} EXECUTE FUNCTION {_PG_FUNCTION}()"
            )
            done.append(f"trigger {name}")
    for name, table, condition, refusal in _ROW_RULES:
        if f"{table}.{name}" in existing:
            continue
        function = f"{name}_check"
        connection.exec_driver_sql(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF {condition} THEN
                    RAISE EXCEPTION '{refusal}';
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        connection.exec_driver_sql(
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION {function}()"
        )
        done.append(f"trigger {name}")
    done += _install_roles(connection)
    return done


def _install_roles(connection: Connection) -> list[str]:
    done = []
    roles = set(
        connection.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname IN (:w, :a)"),
            {"w": WRITER_ROLE, "a": AUDITOR_ROLE},
        ).scalars()
    )
    for role in ROLE_PRIVILEGES:
        if role not in roles:
            # Roles are cluster-wide: another database's setup may create it at the same time.
            connection.exec_driver_sql(
                f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
            done.append(f"role {role}")
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    for role in ROLE_PRIVILEGES:
        usage = connection.execute(
            text("SELECT has_schema_privilege(:role, :schema, 'USAGE')"),
            {"role": role, "schema": schema},
        ).scalar_one()
        if not usage:
            connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
            done.append(f"grant usage on schema {schema} to {role}")
    # One round trip for every (role, table, privilege): setup runs on every start.
    held = connection.execute(
        text(
            "SELECT r, t, p, has_table_privilege(r, quote_ident(:schema) || '.' || t, p) "
            "FROM unnest(CAST(:roles AS text[])) AS r, unnest(CAST(:tables AS text[])) AS t, "
            "unnest(CAST(:privileges AS text[])) AS p"
        ),
        {
            "schema": schema,
            "roles": list(ROLE_PRIVILEGES),
            "tables": [*AUDIT_TABLES, SIMILARITY_TABLE],
            "privileges": ["SELECT", *_FORBIDDEN],
        },
    ).all()
    for role, table, privilege, has in held:
        allowed = privilege in ROLE_PRIVILEGES[role]
        if allowed and not has:
            connection.exec_driver_sql(f"GRANT {privilege} ON {table} TO {role}")
            done.append(f"grant {privilege} on {table} to {role}")
        elif has and not allowed:
            connection.exec_driver_sql(f"REVOKE {privilege} ON {table} FROM {role}")
            done.append(f"revoke {privilege} on {table} from {role}")
    # The similarity index's id comes from a sequence the writer must be able to advance.
    sequence = f"{SIMILARITY_TABLE}_id_seq"
    may_use = connection.execute(
        text(
            "SELECT to_regclass(quote_ident(:schema) || '.' || :seq) IS NULL "
            "OR has_sequence_privilege(:role, quote_ident(:schema) || '.' || :seq, 'USAGE')"
        ),
        {"schema": schema, "seq": sequence, "role": WRITER_ROLE},
    ).scalar_one()
    if not may_use:
        connection.exec_driver_sql(f"GRANT USAGE ON SEQUENCE {sequence} TO {WRITER_ROLE}")
        done.append(f"grant usage on sequence {sequence} to {WRITER_ROLE}")
    return done
