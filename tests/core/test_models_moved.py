"""The audit trail moved from tenants to core, launch-check runs from core to console and restore requests
from tenants to console, without moving a row: a database migrated before the move keeps every row,
and the models' content types (with the permissions granted on them) follow the models."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from console.models import LaunchCheckRun, RestoreRequest
from core.models import AuditEvent

BEFORE_THE_MOVE = [("tenants", "0008_audit_email_resent"), ("core", "0002_launchcheckrun"), ("console", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] in ("tenants", "core", "console")]


@pytest.mark.django_db
def test_rows_made_before_the_move_are_read_by_the_moved_models(make_workspace):
    tenant = make_workspace("moved")
    connection.set_schema_to_public()
    executor = _migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state([target for target in BEFORE_THE_MOVE if target[1]]).apps
    old_audit = old.get_model("tenants", "AuditEvent").objects.create(
        tenant_id=tenant.pk, tenant_label="moved", actor="system", actor_kind="system", action="tenant.purged"
    )
    old_run = old.get_model("core", "LaunchCheckRun").objects.create(
        environment="production", passed=1, warned=0, failed=0, results=[]
    )
    old_restore = old.get_model("tenants", "RestoreRequest").objects.create(
        tenant_id=tenant.pk, backup="workspaces/moved/x.tar", requested_by="op@example.com"
    )

    _migrate(_latest())

    assert AuditEvent.objects.get(pk=old_audit.pk).action_label == "Workspace purged"
    assert LaunchCheckRun.objects.get(pk=old_run.pk).environment == "production"
    assert RestoreRequest.objects.get(pk=old_restore.pk).tenant == tenant


@pytest.mark.django_db
def test_content_types_and_their_permissions_follow_the_moved_models():
    """As on a database made before the move: the content type is the old app's, with a permission on it."""
    ContentType.objects.filter(app_label="console", model="restorerequest").delete()
    ContentType.objects.clear_cache()
    old_type = ContentType.objects.create(app_label="tenants", model="restorerequest")
    granted = Permission.objects.create(content_type=old_type, codename="restore_workspace", name="Can restore")
    _migrate(BEFORE_THE_MOVE)

    _migrate(_latest())

    ContentType.objects.clear_cache()
    granted.refresh_from_db()
    assert (granted.content_type.app_label, granted.content_type.model) == ("console", "restorerequest")
    assert not ContentType.objects.filter(app_label="tenants", model="restorerequest").exists()


@pytest.mark.django_db
def test_a_grant_on_the_old_content_type_moves_to_the_new_one_when_both_exist():
    """A process of the new release may have made the new content type before the release step ran: the old
    one's grants are moved onto the new one's permission, and the old content type goes."""
    from accounts.models import User

    new_type = ContentType.objects.get(app_label="console", model="restorerequest")
    old_type = ContentType.objects.create(app_label="tenants", model="restorerequest")
    old_permission = Permission.objects.create(content_type=old_type, codename="restore_workspace", name="Can restore")
    operator = User.objects.create_user("support@example.com", "a long password here", is_staff=True)
    operator.user_permissions.add(old_permission)
    _migrate(BEFORE_THE_MOVE)

    _migrate(_latest())

    ContentType.objects.clear_cache()
    assert not ContentType.objects.filter(pk=old_type.pk).exists()
    assert list(operator.user_permissions.values_list("content_type", "codename")) == [
        (new_type.pk, "restore_workspace")
    ]
