"""tenants.schemas.clone copies the template exactly: what later migrations and the app rely on."""

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.schemas.clone import UnsupportedSchema, schema_clone

pytestmark = pytest.mark.django_db

TEMPLATE = "tenant_template"


def describe(schema: str) -> dict:
    """Everything structural about a schema, with the schema's own name taken out of definitions."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        ns = cursor.fetchone()[0]
        cursor.execute(
            """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                      pg_get_expr(d.adbin, d.adrelid)
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE c.relnamespace = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY 1, a.attnum""",
            [ns],
        )
        columns = cursor.fetchall()
        cursor.execute(
            """SELECT c.relname, con.conname, con.contype, con.condeferrable, con.condeferred,
                      pg_get_constraintdef(con.oid)
                 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                WHERE con.connamespace = %s ORDER BY 1, 2""",
            [ns],
        )
        constraints = [row[:-1] + (row[-1].replace(f"{schema}.", "S."),) for row in cursor.fetchall()]
        cursor.execute(
            """SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid WHERE ic.relnamespace = %s ORDER BY 1""",
            [ns],
        )
        indexes = [(name, definition.replace(f"{schema}.", "S.")) for name, definition in cursor.fetchall()]
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


def rows(schema: str, table: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')
        return cursor.fetchall()


def test_copy_has_the_same_tables_columns_constraints_and_indexes():
    schema_clone(source=TEMPLATE, target="ws_copy_test")
    template, copy = describe(TEMPLATE), describe("ws_copy_test")
    assert template["columns"] and template["constraints"] and template["indexes"]
    assert copy == template


def test_copy_carries_the_rows_migrations_and_content_types_need():
    schema_clone(source=TEMPLATE, target="ws_copy_test")
    for table in ("django_migrations", "django_content_type", "auth_permission"):
        assert rows("ws_copy_test", table) == rows(TEMPLATE, table) != []


def test_identity_sequences_continue_after_the_copied_rows():
    schema_clone(source=TEMPLATE, target="ws_copy_test")
    with schema_context("ws_copy_test"), connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM django_content_type")
        highest = cursor.fetchone()[0]
        cursor.execute("INSERT INTO django_content_type (app_label, model) VALUES ('x', 'y') RETURNING id")
        assert cursor.fetchone()[0] == highest + 1
        assert User.objects.create(email="first@copy.test").pk == 1


def test_foreign_keys_are_enforced_in_the_copy():
    schema_clone(source=TEMPLATE, target="ws_copy_test")
    with pytest.raises(DatabaseError), transaction.atomic():
        with schema_context("ws_copy_test"), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (999, 1)")


def test_refuses_a_schema_with_things_it_cannot_copy():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA ws_odd; CREATE TABLE ws_odd.t (id int); CREATE VIEW ws_odd.v AS SELECT 1")
    with pytest.raises(UnsupportedSchema, match="relation v"):
        schema_clone(source="ws_odd", target="ws_odd_copy")


def test_refuses_to_run_from_a_workspace_schema():
    with schema_context(TEMPLATE), pytest.raises(UnsupportedSchema, match="public schema"):
        schema_clone(source=TEMPLATE, target="ws_copy_test")
