"""Backups and restore (console/backups/) against the real database. A backup reads in a repeatable-read
transaction of its own and pg_dump runs outside the test's transaction, so these tests commit
(committed_db) and clean up after themselves."""

import json
import subprocess
import tarfile
from datetime import timedelta
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from billing.models import BillingAccount
from console import backups
from console.audit import ConsoleAction
from console.dashboard import last_backup
from core.audit import audit_record
from core.models import ActorKind, AuditEvent
from legal.services import acceptance_record_current
from notifications.models import Notice
from tenants.models import Domain, Tenant
from tests.support.backups import (
    flip_byte_in,
    public_rows,
    schema_rows,
    scratch_schemas,
    workspace_change,
    workspace_state,
)
from tests.support.clients import host_client, logged_in_client
from tests.support.workspaces import add_member


@pytest.fixture
def two_workspaces(make_committed_workspace):
    alpha = make_committed_workspace("bkalpha")
    beta = make_committed_workspace("bkbeta")
    acceptance_record_current(tenant=alpha, email=alpha.owner_email, ip_address="192.0.2.1")
    add_member(alpha, "ann@bkalpha.test", full_name="Ann")
    add_member(alpha, "bob@bkalpha.test", role="admin", full_name="Bob")
    add_member(beta, "zed@bkbeta.test", full_name="Zed")
    BillingAccount.objects.create(tenant=alpha, stripe_customer_id="cus_bkalpha")
    Notice.objects.create(tenant=alpha, kind="trial_ending", occasion="7")
    return alpha, beta


def test_restore_brings_back_every_row_and_leaves_other_workspaces_alone(backup_dir, two_workspaces):
    alpha, beta = two_workspaces
    schema_before, public_before = workspace_state(alpha)
    beta_before = workspace_state(beta)

    call_command("backup_workspace", "bkalpha")
    (name,) = backups.workspace_backups(subdomain="bkalpha")
    with connection.cursor() as cursor:  # the backup's repeatable-read snapshot ended with it
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone() == ("read committed",)
    workspace_change(alpha)
    assert schema_rows(alpha.schema_name) != schema_before

    call_command("restore_workspace", name, "--yes")

    restored = AuditEvent.objects.get(tenant=alpha, action=ConsoleAction.TENANT_RESTORED)
    assert restored.actor_kind == ActorKind.OPERATOR and restored.details["backup"] == name
    assert schema_rows(alpha.schema_name) == schema_before
    assert public_rows(alpha) == public_before
    assert workspace_state(beta) == beta_before
    assert scratch_schemas() == []
    # The routing cache was dropped: the restored business name is what the workspace shows.
    assert host_client(alpha.host).get("/login/").status_code == 200
    assert Tenant.objects.get(pk=alpha.pk).business_name == alpha.business_name
    logged_in_client(alpha)
    logged_in_client(alpha, "bob@bkalpha.test")


def test_restore_puts_back_public_state_and_keeps_history_made_since(backup_dir, two_workspaces):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    audit_before = set(alpha.audit_events.values_list("pk", flat=True))
    Notice.objects.filter(tenant=alpha).delete()
    BillingAccount.objects.filter(tenant=alpha).update(comped=True)
    since = audit_record(tenant=alpha, actor="system", action="tenant.exported")

    backups.workspace_restore(backup=backup.name)

    assert list(Notice.objects.filter(tenant=alpha).values_list("kind", "occasion")) == [("trial_ending", "7")]
    assert BillingAccount.objects.get(tenant=alpha).comped is False
    restored = alpha.audit_events.filter(action=ConsoleAction.TENANT_RESTORED)
    assert set(alpha.audit_events.values_list("pk", flat=True)) == audit_before | {since.pk, restored.get().pk}


def test_a_restore_does_not_hand_out_the_ids_of_rows_deleted_before_the_backup(backup_dir, two_workspaces):
    alpha, _ = two_workspaces
    with schema_context(alpha.schema_name):
        deleted = User.objects.create_user("gone@bkalpha.test", "a long password here").pk
        User.objects.filter(pk=deleted).delete()
    backup = backups.workspace_backup(tenant=alpha)

    backups.workspace_restore(backup=backup.name)

    with schema_context(alpha.schema_name):
        assert User.objects.create_user("new@bkalpha.test", "a long password here").pk > deleted


def test_the_restore_check_loads_the_backup_into_a_scratch_schema_and_keeps_nothing(backup_dir, two_workspaces):
    alpha, beta = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    before = [workspace_state(tenant) for tenant in (alpha, beta)]

    counts = backups.restore_check(backup.name)

    assert counts == {table: entry["rows"] for table, entry in backup.manifest["tables"].items()}
    assert counts["accounts_user"] == 3
    assert [workspace_state(tenant) for tenant in (alpha, beta)] == before
    assert scratch_schemas() == []


def test_a_restore_that_fails_at_the_swap_changes_nothing(backup_dir, two_workspaces, monkeypatch):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    changed = workspace_state(alpha)

    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(backups.restore, "_replace_public_rows", fail)
    with pytest.raises(RuntimeError):
        backups.workspace_restore(backup=backup.name)

    assert workspace_state(alpha) == changed
    assert scratch_schemas() == []
    logged_in_client(alpha)


def test_restore_asks_before_replacing_data(backup_dir, two_workspaces, monkeypatch):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    changed = schema_rows(alpha.schema_name)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Not restored"):
        call_command("restore_workspace", backup.name)
    assert schema_rows(alpha.schema_name) == changed


def test_restore_as_a_new_subdomain_leaves_the_original_unchanged(backup_dir, two_workspaces):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    alpha_now = workspace_state(alpha)
    backed_up = backups.workspace_backups(subdomain="bkalpha")

    call_command("restore_workspace", backup.name, "--as", "bkcopy")

    copy = Tenant.objects.get(subdomain="bkcopy")
    assert copy.pk != alpha.pk and copy.schema_name != alpha.schema_name
    assert Domain.objects.get(tenant=copy).domain == copy.host
    assert copy.business_name == alpha.business_name  # the name at backup time, not "Renamed"
    with schema_context(copy.schema_name):
        assert sorted(User.objects.values_list("email", "full_name")) == [
            ("ann@bkalpha.test", "Ann"),
            ("bob@bkalpha.test", "Bob"),
            (alpha.owner_email, "Owner"),
        ]
    assert copy.legal_acceptances.count() == alpha.legal_acceptances.count() == 2
    assert not BillingAccount.objects.filter(tenant=copy).exists()  # the Stripe customer stays the original's
    assert workspace_state(alpha) == alpha_now
    assert backups.workspace_backups(subdomain="bkalpha") == backed_up
    logged_in_client(copy, alpha.owner_email)
    with pytest.raises(CommandError, match="taken"):
        call_command("restore_workspace", backup.name, "--as", "bkbeta")


def test_a_tampered_or_foreign_archive_is_refused_and_nothing_changes(backup_dir, two_workspaces):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    changed = workspace_state(alpha)
    archive = backup_dir / backup.name

    flip_byte_in(archive, "tables/accounts_user.copy", at=100)
    with pytest.raises(CommandError, match="checksum mismatch for tables/accounts_user.copy"):
        call_command("restore_workspace", backup.name, "--yes")

    foreign = backups.workspace_backup(tenant=alpha)
    folder = backup_dir / "foreign"
    with tarfile.open(backup_dir / foreign.name) as tar:
        tar.extractall(folder, filter="data")
    manifest = json.loads((folder / backups.MANIFEST).read_text())
    (folder / backups.MANIFEST).write_text(json.dumps({**manifest, "workspace_migrations": "0" * 64}))
    (folder / backups.SIGNATURE).write_text(backups.manifest_signature((folder / backups.MANIFEST).read_bytes()))
    with tarfile.open(backup_dir / "foreign.tar", "w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)))
    with pytest.raises(CommandError, match="another migration state"):
        call_command("restore_workspace", str(backup_dir / "foreign.tar"), "--yes")

    with tarfile.open(backup_dir / "foreign.tar", "a") as tar:
        tar.add(folder / backups.MANIFEST, arcname="tables/extra.copy")
    with pytest.raises(CommandError, match="not the ones its manifest lists"):
        call_command("restore_workspace", str(backup_dir / "foreign.tar"), "--yes")

    assert workspace_state(alpha) == changed
    assert scratch_schemas() == []


def test_a_backup_run_deletes_old_backups_of_its_kind_only(backup_dir, settings, two_workspaces):
    alpha, beta = two_workspaces
    settings.BACKUP_KEEP_DAYS = 14
    storage = storages["backups"]
    old_alpha = storage.save("workspaces/bkalpha/20200101T000000000000Z.tar", ContentFile(b"old"))
    old_beta = storage.save("workspaces/bkbeta/20200101T000000000000Z.tar", ContentFile(b"old"))
    old_database = storage.save("database/20200101T000000000000Z.dump", ContentFile(b"old"))

    recent = backups.workspace_backup(tenant=alpha)

    assert backups.workspace_backups(subdomain="bkalpha") == [recent.name]
    assert storage.exists(old_beta) and storage.exists(old_database)
    assert not storage.exists(old_alpha)


def test_the_whole_database_backup_is_a_restorable_dump(backup_dir, two_workspaces):
    alpha, _ = two_workspaces
    old = storages["backups"].save("database/20200101T000000000000Z.dump", ContentFile(b"old"))

    call_command("backup")

    _, files = storages["backups"].listdir("database")
    dumps = sorted(name for name in files if name.endswith(".dump"))
    assert len(dumps) == 1 and f"database/{dumps[0]}" != old
    dump = backup_dir / "database" / dumps[0]
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["files"]["database.dump"]["sha256"] == backups.manifests.file_sha256(dump)
    listing = subprocess.run(
        [backups.pg_program("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert f"SCHEMA - {alpha.schema_name}" in listing
    assert "TABLE public tenants_tenant" in listing


def test_the_nightly_job_backs_the_database_up_and_the_dashboard_shows_its_age(backup_dir, operator_client):
    from console.tasks import backup_daily

    assert backups.newest_database_backup_at() is None
    assert "none yet" in operator_client.get("/admin/").content.decode().split("Last backup")[1][:200]

    name = backup_daily(timestamp=0)

    made = backups.newest_database_backup_at()
    assert name.startswith("database/") and made is not None
    row = operator_client.get("/admin/").content.decode().split("Last backup")[1].split("</tr>")[0]
    assert "0 h ago" in row and "ops-bad" not in row


def test_the_nightly_run_backs_up_every_workspace_and_one_failure_does_not_stop_the_others(backup_dir, two_workspaces):
    alpha, beta = two_workspaces
    with connection.cursor() as cursor:  # beta's schema is gone: its backup fails
        cursor.execute(f"ALTER SCHEMA {beta.schema_name} RENAME TO {beta.schema_name}_away")
    events = AuditEvent.objects.count()
    try:
        with pytest.raises(CommandError, match="1 workspace\\(s\\) failed: bkbeta"):
            call_command("backup_workspace", "--all")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER SCHEMA {beta.schema_name}_away RENAME TO {beta.schema_name}")

    run = backups.workspaces_backup_last_run()
    assert set(run["failed"]) == {"bkbeta"} and run["backed_up"] >= 1
    (alpha_backup,) = backups.workspace_backups(subdomain="bkalpha")
    assert backups.workspace_backups(subdomain="bkbeta") == []
    assert AuditEvent.objects.count() == events  # scheduled copies are not in the audit trail
    shown = last_backup(now=timezone.now())["workspaces"]
    assert shown["failed"] == ["bkbeta"] and shown["bad"]  # the operators' dashboard flags it
    assert backups.restore_check(alpha_backup)["accounts_user"] == 3

    from console.tasks import backup_workspaces_daily

    assert backup_workspaces_daily(timestamp=0) >= 2  # the next night: beta is back
    assert backups.workspaces_backup_last_run()["failed"] == {}
    assert not last_backup(now=timezone.now())["workspaces"]["bad"]
    assert len(backups.workspace_backups(subdomain="bkbeta")) == 1


def test_the_newest_database_backup_is_verified_by_checksum_and_contents(backup_dir, two_workspaces):
    with pytest.raises(backups.BackupError, match="no whole-database backup yet"):
        backups.database_backup_verify()
    made = backups.database_backup()

    assert backups.database_backup_verify()["name"] == made.name

    dump = backup_dir / made.name
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(backups.BackupError, match="checksum mismatch"):
        backups.database_backup_verify()


def _rewritten(backup_dir: Path, name: str, *, manifest=None, public=None, sign=True) -> Path:
    """A copy of a stored archive with its manifest and public rows changed, checksums made to match, and
    the manifest signed again unless `sign` is False."""
    folder = backup_dir / "rewrite"
    with tarfile.open(backup_dir / name) as tar:
        tar.extractall(folder, filter="data")
    data = json.loads((folder / backups.MANIFEST).read_text())
    rows = json.loads((folder / backups.PUBLIC_ROWS).read_text())
    if public:
        public(rows)
        (folder / backups.PUBLIC_ROWS).write_text(json.dumps(rows))
        data["files"][backups.PUBLIC_ROWS]["sha256"] = backups.manifests.file_sha256(folder / backups.PUBLIC_ROWS)
    if manifest:
        manifest(data)
    (folder / backups.MANIFEST).write_text(json.dumps(data))
    if sign:  # as someone holding this deployment's key: the checks behind the signature are what is tried
        (folder / backups.SIGNATURE).write_text(backups.manifest_signature((folder / backups.MANIFEST).read_bytes()))
    archive = backup_dir / "rewritten.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)))
    return archive


def test_an_archive_made_before_the_models_moved_to_core_and_console_restores(backup_dir, two_workspaces):
    """An archive of the release before: its audit rows are named tenants.auditevent, its manifest has only
    every app's migration digest, taken before the state-only migrations that moved the models. It restores."""
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    before_the_move = backups.postgres.migrations_digest(
        alpha.schema_name, leaving_out=backups.manifests.MOVES_WITHOUT_SCHEMA_CHANGES
    )

    def as_before_the_move(rows):
        events = rows.pop("core.auditevent")
        rows["tenants.auditevent"] = [{**row, "model": "tenants.auditevent"} for row in events]

    def manifest_before_the_move(data):
        del data["workspace_migrations"]
        data["migrations"] = before_the_move

    older = _rewritten(backup_dir, backup.name, public=as_before_the_move, manifest=manifest_before_the_move)
    lost = alpha.audit_events.order_by("pk").first()
    lost_pk, lost_action = lost.pk, lost.action
    lost.delete()

    backups.workspace_restore(backup=older)

    assert AuditEvent.objects.get(pk=lost_pk, tenant=alpha).action == lost_action


def test_a_shared_apps_migration_leaves_earlier_backups_restorable(backup_dir, two_workspaces):
    """A shared app's migration is recorded in every schema but changes no workspace table: backups made
    before it still restore. A workspace app's migration does change what a dump holds: refused."""
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    template = connection.ops.quote_name(settings.TENANT_BASE_SCHEMA)
    LATER = "9999_later"  # noqa: N806
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {template}.django_migrations (app, name, applied) VALUES ('billing', %s, now())", [LATER]
            )
        backups.workspace_restore(backup=backup.name)

        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {template}.django_migrations (app, name, applied) VALUES ('accounts', %s, now())", [LATER]
            )
        with pytest.raises(backups.BackupError, match="another migration state"):
            backups.workspace_restore(backup=backup.name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {template}.django_migrations WHERE name = %s", [LATER])


def test_a_crafted_manifest_reaches_no_sql_and_changes_nothing(backup_dir, two_workspaces, tmp_path):
    alpha, beta = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    before = [workspace_state(tenant) for tenant in (alpha, beta)]
    planted = tmp_path / "planted"
    injected = f"email\") FROM PROGRAM 'touch {planted}' --"

    def column(data):
        data["tables"]["accounts_user"]["columns"][1] = injected

    def sequence(data):
        data["tables"]["accounts_user"]["sequence"]["last_value"] = "1, true); DROP TABLE accounts_user; --"

    def table(data):
        data["tables"]["accounts_user; DROP SCHEMA public"] = data["tables"].pop("accounts_user")

    def tenant_id(data):
        data["tenant_id"] = "1 OR 1=1"

    for mutate, refusal in [
        (column, "columns of accounts_user differ"),
        (sequence, "sequence of accounts_user"),
        (table, "not the ones its manifest lists"),
        (tenant_id, "does not name a workspace"),
    ]:
        archive = _rewritten(backup_dir, backup.name, manifest=mutate)
        with pytest.raises(backups.BackupError, match=refusal):
            backups.workspace_restore(backup=archive)
        if mutate is not tenant_id:
            with pytest.raises(backups.BackupError, match=refusal):
                backups.restore_check(archive)

    assert not planted.exists()
    assert [workspace_state(tenant) for tenant in (alpha, beta)] == before
    assert scratch_schemas() == []


def test_an_archive_altered_without_this_deployments_key_is_refused(backup_dir, two_workspaces, settings):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    changed = workspace_state(alpha)

    def more_members(rows):
        rows["tenants.tenant"][0]["fields"]["business_name"] = "Taken over"

    forged = _rewritten(backup_dir, backup.name, public=more_members, sign=False)
    with pytest.raises(backups.BackupError, match="not signed with this deployment's key"):
        backups.workspace_restore(backup=forged)
    with pytest.raises(backups.BackupError, match="not signed with this deployment's key"):
        backups.restore_check(forged)
    assert workspace_state(alpha) == changed

    old_key, settings.SECRET_KEY = settings.SECRET_KEY, "a-new-key-" + "x" * 50  # the key rotated
    with pytest.raises(backups.BackupError, match="not signed with this deployment's key"):
        backups.restore_check(backup.name)
    settings.SECRET_KEY_FALLBACKS = [old_key]  # the old key kept as a fallback: its backups still restore
    assert backups.restore_check(backup.name)["accounts_user"] == 3


def test_public_rows_of_another_workspace_in_an_archive_are_refused(backup_dir, two_workspaces):
    alpha, beta = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    beta_before = public_rows(beta)

    def plant(rows):
        (notice,) = rows["notifications.notice"]
        rows["notifications.notice"].append({**notice, "pk": 999999, "fields": {**notice["fields"], "tenant": beta.pk}})
        rows["tenants.domain"].append(
            {
                "model": "tenants.domain",
                "pk": 999999,
                "fields": {"domain": "hijack.example.org", "tenant": beta.pk, "is_primary": False},
            }
        )

    archive = _rewritten(backup_dir, backup.name, public=plant)
    with pytest.raises(backups.BackupError, match="notifications.notice rows include rows of another workspace"):
        backups.workspace_restore(backup=archive)
    with pytest.raises(backups.BackupError, match="rows include rows of another workspace"):
        backups.workspace_restore(backup=archive, as_subdomain="bkplanted")

    assert public_rows(beta) == beta_before
    assert not Domain.objects.filter(domain="hijack.example.org").exists()
    assert not Tenant.objects.filter(subdomain="bkplanted").exists()


def test_a_backup_of_another_workspace_is_refused_where_one_workspace_is_meant(backup_dir, two_workspaces):
    alpha, beta = two_workspaces
    of_beta = backups.workspace_backup(tenant=beta)

    for as_subdomain in (None, "bkcopy"):
        with pytest.raises(backups.BackupError, match="is not a backup of this workspace"):
            backups.workspace_restore(backup=of_beta.name, of_tenant_id=alpha.pk, as_subdomain=as_subdomain)
    assert not Tenant.objects.filter(subdomain="bkcopy").exists()


def test_a_storage_name_is_never_read_from_this_machines_disk(backup_dir, two_workspaces, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("elsewhere")
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)

    elsewhere = tmp_path / "elsewhere.tar"
    elsewhere.write_bytes((backup_dir / backup.name).read_bytes())

    for name in (str(elsewhere), "../elsewhere.tar", f"workspaces/bkalpha/../../{elsewhere.name}"):
        with pytest.raises(backups.BackupError, match="no backup"):
            backups.workspace_restore(backup=name)  # a str is a name in the storage, never a path out of it
    assert backups.workspace_restore(backup=elsewhere).pk == alpha.pk  # a Path is a local file


def test_a_restore_gives_up_on_a_busy_workspace_and_changes_nothing(backup_dir, two_workspaces, monkeypatch):
    alpha, _ = two_workspaces
    backup = backups.workspace_backup(tenant=alpha)
    workspace_change(alpha)
    changed = workspace_state(alpha)
    monkeypatch.setattr(backups.postgres, "LOCK_TIMEOUT", "1s")
    steps = []
    busy = psycopg.connect(**_connection_params())
    try:
        busy.execute(f"SELECT count(*) FROM {alpha.schema_name}.accounts_user")  # a transaction left open on it
        with pytest.raises(backups.BackupError, match="stayed busy for 1s"):
            backups.workspace_restore(backup=backup.name, progress=steps.append)
    finally:
        busy.close()

    assert steps[-1] == "switching the workspace to the restored data"
    assert workspace_state(alpha) == changed
    assert scratch_schemas() == []
    backups.workspace_restore(backup=backup.name)  # once it is quiet
    assert schema_rows(alpha.schema_name) != changed[0]


def _connection_params() -> dict:
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "host": db["HOST"],
        "port": db["PORT"],
        "password": db["PASSWORD"],
    }
    return {key: value for key, value in params.items() if value}


def test_a_purge_deletes_the_workspaces_backups_and_a_new_owner_of_its_subdomain_sees_none(
    backup_dir, two_workspaces, make_committed_workspace, settings
):
    alpha, beta = two_workspaces
    backups.workspace_backup(tenant=alpha)
    backups.workspace_backup(tenant=beta)
    Tenant.objects.filter(pk=beta.pk).update(
        status=Tenant.Status.CANCELLED, closed_at=timezone.now() - timedelta(days=settings.DELETION_GRACE_DAYS + 1)
    )

    out = StringIO()
    call_command("purge_closed_tenants", stdout=out)

    assert "Purged 1 workspace(s): bkbeta" in out.getvalue()
    assert "Deleted the backups of 1 purged workspace(s)." in out.getvalue()
    assert backups.workspace_backups(subdomain="bkbeta") == []
    assert len(backups.workspace_backups(subdomain="bkalpha")) == 1
    again = make_committed_workspace("bkbeta")  # the subdomain taken again
    assert backups.workspace_backup_list(subdomain=again.subdomain) == []
