"""A workspace's page in the operators' admin: its usage, invoices, emails and audit trail, its backups, and
restoring one from there (a RestoreRequest the worker runs, with its progress and outcome on the page)."""

import io
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from billing.models import Invoice
from console import backups, restores
from console.audit import ConsoleAction
from console.models import RestoreRequest
from core.audit import audit_record
from core.models import AuditEvent
from notifications.models import EmailLog
from tenants.audit import TenantAction
from tenants.models import Tenant
from tests.support.operators import operator_client_for, operator_create
from tests.support.queue import jobs_by_status, jobs_run
from tests.support.workspaces import PASSWORD, add_member, users_of

# Every statement of the page (the route and the operator's session come from the cache): the search path,
# the operator and their device, the workspace, its inlines (domains, billing account), its usage (one on its
# schema, two public), the content types, the latest invoices, restores, emails and audit events: 14.
PAGE_QUERIES = 14


def page_url(tenant: Tenant) -> str:
    return f"/admin/tenants/tenant/{tenant.pk}/change/"


def restore_url(tenant: Tenant) -> str:
    return f"/admin/tenants/tenant/{tenant.pk}/restore/"


def request_url(request: RestoreRequest) -> str:
    return f"/admin/console/restorerequest/{request.pk}/change/"


def member_with_login(tenant: Tenant, email: str, *, days_ago: int | None, active: bool = True) -> None:
    user = add_member(tenant, email, is_active=active)
    with schema_context(tenant.schema_name):
        last_login = timezone.now() - timedelta(days=days_ago) if days_ago is not None else None
        User.objects.filter(pk=user.pk).update(last_login=last_login)
    connection.set_schema_to_public()


def emails(tenant: Tenant, **by_status: int) -> None:
    for status, count in by_status.items():
        for n in range(count):
            EmailLog.objects.create(
                tenant=tenant, tenant_label=tenant.subdomain, kind="welcome", to=f"{n}@x.test", status=status
            )


def exports(tenant: Tenant, count: int) -> None:
    for _ in range(count):
        audit_record(tenant=tenant, actor=tenant.owner_email, action=TenantAction.TENANT_EXPORTED)


def fake_backup(tenant: Tenant, stamp: str = "20261127T020000000000Z") -> str:
    """A name in the backups storage: enough for the pages and the request, never run."""
    return storages["backups"].save(f"workspaces/{tenant.subdomain}/{stamp}.tar", ContentFile(b"not a tar"))


@pytest.fixture
def alpha_and_beta(make_workspace):
    """Two workspaces with different members, logins, emails and exports."""
    alpha = make_workspace("alpha", business_name="Alpha Ltd")
    beta = make_workspace("beta", business_name="Beta Inc")
    member_with_login(alpha, "ann@alpha.test", days_ago=3)
    member_with_login(alpha, "bob@alpha.test", days_ago=45)
    member_with_login(alpha, "cy@alpha.test", days_ago=None, active=False)
    for n in range(6):
        member_with_login(beta, f"m{n}@beta.test", days_ago=0)
    emails(alpha, sent=3, failed=1, queued=1)
    emails(beta, sent=7, bounced=2)
    exports(alpha, 2)
    exports(beta, 5)
    return alpha, beta


def test_the_page_shows_the_usage_of_its_workspace_only(clock_still, operator_client, alpha_and_beta, backup_dir):
    alpha, beta = alpha_and_beta
    response = operator_client.get(page_url(alpha))
    assert response.status_code == 200
    usage = response.context["usage"]
    assert (usage.members, usage.deactivated, usage.active_members) == (4, 1, 1)  # the owner never logged in
    assert usage.last_activity == timezone.now() - timedelta(days=3)  # ann's login, the newest
    assert (usage.exports, usage.emails, usage.emails_sent, usage.emails_failed) == (2, 5, 3, 1)
    assert usage.schema_bytes > 100_000  # a migrated schema's tables and indexes
    body = response.content.decode()
    assert 'id="usage"' in body and "Active, last 30 days" in body

    other = operator_client.get(page_url(beta)).context["usage"]
    assert (other.members, other.active_members, other.exports, other.emails, other.emails_failed) == (7, 6, 5, 9, 2)


def test_the_page_queries_are_bounded_and_about_its_workspace_only(
    operator_client, alpha_and_beta, backup_dir, django_assert_max_num_queries
):
    alpha, beta = alpha_and_beta
    for tenant in (alpha, beta):
        for n in range(3):
            Invoice.objects.create(
                tenant=tenant,
                stripe_id=f"in_{tenant.subdomain}_{n}",
                status="paid",
                amount_due=1900,
                currency="usd",
                created=timezone.now(),
            )
    counts = []
    for tenant in (alpha, beta):
        fake_backup(tenant)
        with django_assert_max_num_queries(PAGE_QUERIES) as captured:
            assert operator_client.get(page_url(tenant)).status_code == 200
        counts.append(len(captured))
        schemas = {other.schema_name for other in Tenant.objects.exclude(pk=tenant.pk).exclude(kind=Tenant.Kind.PUBLIC)}
        assert not [query for query in captured if any(schema in query["sql"] for schema in schemas)]
    assert counts[0] == counts[1], "the number of queries depends on the workspace's data"


def test_invoices_emails_and_audit_trail_link_to_their_lists_filtered_to_the_workspace(
    operator_client, alpha_and_beta, backup_dir
):
    alpha, beta = alpha_and_beta
    Invoice.objects.create(
        tenant=alpha,
        stripe_id="in_alpha",
        number="ALPHA-0001",
        status="open",
        amount_due=4900,
        currency="eur",
        created=timezone.now(),
        hosted_invoice_url="https://invoice.stripe.com/i/alpha",
    )
    Invoice.objects.create(
        tenant=beta,
        stripe_id="in_beta",
        number="BETA-0001",
        status="paid",
        amount_due=1900,
        currency="usd",
        created=timezone.now(),
    )
    response = operator_client.get(page_url(alpha))
    body = response.content.decode()
    assert "ALPHA-0001" in body and "49.00 EUR" in body and "https://invoice.stripe.com/i/alpha" in body
    assert "BETA-0001" not in body
    assert {e.tenant_id for e in response.context["emails"]} == {alpha.pk}
    assert {e.tenant_id for e in response.context["events"]} == {alpha.pk}
    assert "tenant.provisioned" in body

    links = response.context["links"]
    for name, expected in (("invoices", 1), ("emails", 5), ("events", 3), ("email_failures", 1), ("exports", 2)):
        listed = operator_client.get(links[name])
        assert listed.status_code == 200, name
        rows = listed.context["cl"].result_list
        assert len(rows) == expected and {row.tenant_id for row in rows} == {alpha.pk}, name
        assert links[name] in body.replace("&amp;", "&")


def test_the_latest_rows_only(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    emails(alpha, sent=25)
    response = operator_client.get(page_url(alpha))
    assert len(response.context["emails"]) == 20


def test_the_backups_are_listed_newest_first_with_their_restore_links(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    older = fake_backup(alpha, "20261125T020000000000Z")
    newer = fake_backup(alpha, "20261126T020000000000Z")
    body = operator_client.get(page_url(alpha)).content.decode()
    assert body.index(newer) < body.index(older)
    assert "26 Nov 2026 02:00" in body
    assert f"{restore_url(alpha)}?backup={newer}&amp;mode=copy" in body
    assert "Back up now" in body


def test_back_up_now_is_queued_once(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    url = f"/admin/tenants/tenant/{alpha.pk}/backup/"
    assert operator_client.get(url).status_code == 405
    response = operator_client.post(url, follow=True)
    assert "Backup of alpha queued" in response.content.decode()
    assert "already queued" in operator_client.post(url, follow=True).content.decode()
    assert jobs_by_status(restores.BACKUP_TASK) == {"todo": 1}


def test_a_wrong_confirmation_queues_nothing(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    name = fake_backup(alpha)
    page = operator_client.get(restore_url(alpha), {"backup": name})
    assert page.status_code == 200 and "Type <code>alpha</code> to confirm" in page.content.decode()

    response = operator_client.post(restore_url(alpha), {"backup": name, "mode": "in_place", "confirm": "alpha2"})
    assert response.status_code == 400
    assert "Type alpha exactly to confirm." in response.content.decode()
    response = operator_client.post(restore_url(alpha), {"backup": name, "mode": "copy", "confirm": "alpha"})
    assert response.status_code == 400 and "Choose the subdomain of the new workspace." in response.content.decode()
    assert not RestoreRequest.objects.exists()
    assert jobs_by_status() == {}
    assert operator_client.get(restore_url(alpha), {"backup": "workspaces/beta/x.tar"}).status_code == 404


def test_a_second_restore_while_one_is_queued_is_refused(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    name = fake_backup(alpha)
    form = {"backup": name, "mode": "in_place", "confirm": "alpha"}
    response = operator_client.post(restore_url(alpha), form)
    request = RestoreRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == request_url(request)
    assert (request.tenant, request.backup, request.status, request.requested_by) == (
        alpha,
        name,
        "queued",
        "op@example.com",
    )
    assert AuditEvent.objects.filter(tenant=alpha, action=ConsoleAction.TENANT_RESTORE_REQUESTED).count() == 1

    again = operator_client.post(restore_url(alpha), {**form, "mode": "copy", "as_subdomain": "alpha-copy"})
    assert again.status_code == 400
    assert "A restore of alpha is already queued or running" in again.content.decode()
    assert RestoreRequest.objects.count() == 1 and jobs_by_status(restores.RESTORE_TASK) == {"todo": 1}
    page = operator_client.get(page_url(alpha)).content.decode()
    assert "Queued" in page and name in page


def test_a_restore_page_follows_the_restore_until_it_is_done(operator_client, make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    name = fake_backup(alpha)
    form = {"backup": name, "mode": "in_place", "confirm": "alpha"}
    followed = operator_client.post(restore_url(alpha), form, follow=True).content.decode()
    assert "queued. This page follows it until it is done." in followed
    assert '<meta http-equiv="refresh" content="2">' in followed
    assert f"{page_url(alpha)}#restores" in followed  # back to the workspace

    request = RestoreRequest.objects.get()
    url = request_url(request)
    RestoreRequest.objects.update(status="running", started_at=timezone.now(), progress="schema built\nrows loaded")
    running = operator_client.get(url).content.decode()
    assert 'http-equiv="refresh"' in running and "schema built<br>rows loaded" in running
    RestoreRequest.objects.update(started_at=timezone.now() - timedelta(minutes=61))  # its worker died
    assert 'http-equiv="refresh"' not in operator_client.get(url).content.decode()
    for status in ("succeeded", "failed"):
        RestoreRequest.objects.update(status=status)
        done = operator_client.get(url).content.decode()
        assert 'http-equiv="refresh"' not in done and "reloads every" not in done


def test_a_restore_left_running_by_a_dead_worker_stops_blocking_after_an_hour(
    operator_client, make_workspace, backup_dir
):
    alpha = make_workspace("alpha")
    name = fake_backup(alpha)
    form = {"backup": name, "mode": "in_place", "confirm": "alpha"}
    assert operator_client.post(restore_url(alpha), form).status_code == 302
    RestoreRequest.objects.update(status="running", started_at=timezone.now() - timedelta(minutes=50))
    assert operator_client.post(restore_url(alpha), form).status_code == 400  # still possibly running

    RestoreRequest.objects.update(started_at=timezone.now() - timedelta(minutes=70))
    assert operator_client.post(restore_url(alpha), form).status_code == 302

    stuck, new = RestoreRequest.objects.order_by("pk")
    assert (stuck.status, stuck.result) == ("failed", restores.ABANDONED) and new.status == "queued"


def test_the_restore_requests_list_is_read_only_and_filters_by_status_and_workspace(
    operator_client, make_workspace, backup_dir
):
    alpha, beta = make_workspace("alpha"), make_workspace("beta")
    done = RestoreRequest.objects.create(tenant_id=alpha.pk, backup=fake_backup(alpha), requested_by="op@example.com")
    RestoreRequest.objects.filter(pk=done.pk).update(status="succeeded")
    waiting = RestoreRequest.objects.create(tenant_id=beta.pk, backup=fake_backup(beta), requested_by="op@example.com")

    def listed(query) -> set[int]:
        response = operator_client.get("/admin/console/restorerequest/", query)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert listed({}) == {done.pk, waiting.pk}
    assert listed({"status__exact": "queued"}) == {waiting.pk}
    assert listed({"tenant_id": alpha.pk}) == {done.pk}
    assert operator_client.get(f"/admin/console/restorerequest/{done.pk}/change/").status_code == 200
    assert operator_client.get("/admin/console/restorerequest/add/").status_code == 403
    assert operator_client.post(f"/admin/console/restorerequest/{done.pk}/delete/", {"post": "yes"}).status_code == 403


def test_an_unexpected_error_fails_the_request_and_is_raised_for_the_job(make_workspace, monkeypatch):
    alpha = make_workspace("alpha")
    request = RestoreRequest.objects.create(tenant_id=alpha.pk, backup="workspaces/alpha/x.tar", requested_by="op")

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(backups, "workspace_restore", broken)
    with pytest.raises(RuntimeError):
        restores.restore_request_run(request_id=request.pk)
    request.refresh_from_db()
    assert (request.status, request.result) == ("failed", restores.UNEXPECTED_FAILURE)
    assert request.finished_at is not None
    # A job that runs again (a retry, a duplicate) leaves a finished request alone.
    assert restores.restore_request_run(request_id=request.pk).status == "failed"


def test_restoring_needs_the_permission(make_workspace, backup_dir):
    alpha = make_workspace("alpha")
    name = fake_backup(alpha)
    user, device = operator_create("support@example.com", PASSWORD)
    User.objects.filter(pk=user.pk).update(is_superuser=False)  # staff with 2FA, not a superuser
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_tenant", "change_tenant"]))
    client = operator_client_for(user, device)
    assert client.get(page_url(alpha)).status_code == 200
    assert "Restoring needs the permission" in client.get(page_url(alpha)).content.decode()
    assert client.get(restore_url(alpha), {"backup": name}).status_code == 403
    form = {"backup": name, "mode": "in_place", "confirm": "alpha"}
    assert client.post(restore_url(alpha), form).status_code == 403
    assert not RestoreRequest.objects.exists()

    user.user_permissions.add(Permission.objects.get(codename="restore_workspace"))
    assert client.post(restore_url(alpha), form).status_code == 302
    assert RestoreRequest.objects.get().requested_by == "support@example.com"


# --- The restore itself: pg_dump and psql work outside the test's transaction, so these commit -----------


@pytest.fixture
def committed_operator(committed_db):
    return operator_client_for(*operator_create("op@example.com", PASSWORD, full_name="Olga Operator"))


@pytest.fixture
def committed_pair(make_committed_workspace):
    alpha = make_committed_workspace("wsalpha")
    beta = make_committed_workspace("wsbeta")
    add_member(alpha, "ann@wsalpha.test", full_name="Ann")
    add_member(beta, "zed@wsbeta.test", full_name="Zed")
    return alpha, beta


def members(tenant: Tenant) -> list[tuple[str, str]]:
    return [(user.email, user.full_name) for user in users_of(tenant)]


def back_up_now(client, tenant: Tenant) -> str:
    """The "Back up now" button, and the worker running the backup it queued: the new backup's name."""
    before = {stored.name for stored in backups.workspace_backup_list(subdomain=tenant.subdomain)}
    client.post(f"/admin/tenants/tenant/{tenant.pk}/backup/")
    jobs_run()
    (made,) = {stored.name for stored in backups.workspace_backup_list(subdomain=tenant.subdomain)} - before
    return made


def test_restore_in_place_from_the_admin(committed_operator, committed_pair, backup_dir):
    alpha, beta = committed_pair
    client = committed_operator
    name = back_up_now(client, alpha)
    alpha_before, beta_before = members(alpha), members(beta)
    with schema_context(alpha.schema_name):
        User.objects.filter(email="ann@wsalpha.test").update(full_name="Ann Changed")
        User.objects.create_user("late@wsalpha.test", PASSWORD)
    connection.set_schema_to_public()
    assert members(alpha) != alpha_before

    response = client.post(restore_url(alpha), {"backup": name, "mode": "in_place", "confirm": "wsalpha"})
    assert response.status_code == 302
    request = RestoreRequest.objects.get(tenant_id=alpha.pk)
    assert request.status == "queued" and jobs_by_status(restores.RESTORE_TASK) == {"todo": 1}

    jobs_run()
    request.refresh_from_db()
    assert request.status == "succeeded", request.result
    assert request.result == "Restored into wsalpha."
    assert request.restored_tenant_id == alpha.pk and request.started_at <= request.finished_at
    steps = [line.split(" ", 1)[1] for line in request.progress.splitlines()]
    assert steps[0] == "checking the archive" and steps[-1] == "switching the workspace to the restored data"
    assert members(alpha) == alpha_before
    assert members(beta) == beta_before
    # The request outlived the restore (a restore puts the workspace's own public rows back, not these).
    assert list(RestoreRequest.objects.filter(tenant_id=alpha.pk)) == [request]
    actions = list(AuditEvent.objects.filter(tenant=alpha).values_list("action", "actor").order_by("pk"))
    assert actions[-3:] == [
        (ConsoleAction.TENANT_BACKED_UP, "op@example.com"),
        (ConsoleAction.TENANT_RESTORE_REQUESTED, "op@example.com"),
        (ConsoleAction.TENANT_RESTORED, "op@example.com"),
    ]
    page = client.get(page_url(alpha)).content.decode()
    assert "Succeeded" in page and "switching the workspace to the restored data" in page


def test_restore_as_a_new_workspace_from_the_admin(committed_operator, committed_pair, backup_dir):
    alpha, _ = committed_pair
    client = committed_operator
    name = back_up_now(client, alpha)
    form = {"backup": name, "mode": "copy", "as_subdomain": "wsalpha-copy", "confirm": "wsalpha"}
    assert client.post(restore_url(alpha), form).status_code == 302
    jobs_run()

    request = RestoreRequest.objects.get()
    copy = Tenant.objects.get(subdomain="wsalpha-copy")
    assert (request.status, request.restored_tenant_id) == ("succeeded", copy.pk)
    assert members(copy) == members(alpha)
    assert not RestoreRequest.objects.filter(tenant_id=copy.pk).exists()
    assert f'href="{page_url(copy)}"' in client.get(page_url(alpha)).content.decode()


def test_a_restore_of_a_tampered_backup_fails_with_its_reason_and_changes_nothing(
    committed_operator, committed_pair, backup_dir
):
    alpha, beta = committed_pair
    client = committed_operator
    name = back_up_now(client, alpha)
    tamper(backup_dir / name)
    with schema_context(alpha.schema_name):
        User.objects.filter(email="ann@wsalpha.test").update(full_name="Ann Changed")
    connection.set_schema_to_public()
    alpha_before, beta_before = members(alpha), members(beta)

    client.post(restore_url(alpha), {"backup": name, "mode": "in_place", "confirm": "wsalpha"})
    assert jobs_run() == {"succeeded": 2}  # the backup's job and the restore's: it ran, the restore failed

    request = RestoreRequest.objects.get()
    assert request.status == "failed"
    assert request.result == f"{name}: checksum mismatch for public.json: the archive is damaged or altered"
    assert (members(alpha), members(beta)) == (alpha_before, beta_before)
    assert not AuditEvent.objects.filter(tenant=alpha, action=ConsoleAction.TENANT_RESTORED).exists()
    # Finished: another restore may be requested.
    good = back_up_now(client, alpha)
    assert (
        client.post(restore_url(alpha), {"backup": good, "mode": "in_place", "confirm": "wsalpha"}).status_code == 302
    )


def tamper(archive: Path) -> None:
    """Add a byte to public.json and put the archive back together, manifest unchanged."""
    with tarfile.open(archive) as tar:
        members_ = {member.name: tar.extractfile(member).read() for member in tar.getmembers()}
    members_["public.json"] += b"\n"
    with tarfile.open(archive, "w") as tar:
        for filename, content in members_.items():
            info = tarfile.TarInfo(filename)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_with_the_backups_storage_down_the_pages_say_so(operator_client, make_workspace, settings, tmp_path):
    alpha = make_workspace("alpha")
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": not_a_folder}},
    }

    dashboard = operator_client.get("/admin/")
    assert dashboard.status_code == 200
    assert "storage unreachable" in dashboard.content.decode().split("Last backup")[1].split("</tr>")[0]

    page = operator_client.get(page_url(alpha))
    assert page.status_code == 200 and "The backups could not be listed" in page.content.decode()

    restore = operator_client.get(restore_url(alpha), {"backup": "workspaces/alpha/x.tar"}, follow=True)
    assert restore.status_code == 200 and "The backups could not be listed" in restore.content.decode()
    assert not RestoreRequest.objects.exists()


@pytest.mark.parametrize("stored_as", ["tenants.purge_closed", "console.purge_closed"])
def test_a_job_stored_under_either_name_of_a_renamed_task_runs(db, stored_as):
    """The console's tasks are renamed in two releases (console/tasks.py): this one runs jobs stored under
    the name the previous release wrote (tenants.*) and under the one the next release will write (console.*)."""
    from django.db import connection

    from core.queue import defer

    job = defer("tenants.purge_closed", timestamp=0)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET task_name = %s WHERE id = %s", [stored_as, job])

    assert jobs_run() == {"succeeded": 1}
    assert jobs_by_status(stored_as) == {"succeeded": 1}
