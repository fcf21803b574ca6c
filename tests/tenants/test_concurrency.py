"""Real concurrent signups against real PostgreSQL (committed work, separate connections)."""

import threading

from django.db import connection, connections

from tenants.models import Domain, Tenant
from tenants.schemas import pool
from tests.support.clients import host_client
from tests.support.queue import jobs_by_status, worker_thread_run
from tests.support.workspaces import PASSWORD


def _workspace_schemas_on_disk() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ws\\_%%'")
        return {row[0] for row in cursor.fetchall()}


def _sign_up_at_once(forms: list[dict]) -> list[tuple[int, str]]:
    """POST each signup form from its own thread (own connection), all released at the same moment."""
    barrier = threading.Barrier(len(forms))
    results: list[tuple[int, str]] = []

    def sign_up(form: dict) -> None:
        client = host_client("localhost")
        barrier.wait()
        try:
            response = client.post("/signup/", {"password": PASSWORD, "accept_terms": "on", **form})
            results.append((response.status_code, response.content.decode()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_six_concurrent_signups_for_one_subdomain_make_exactly_one_workspace(committed_db):
    spares_before = Tenant.objects.spares().count()
    results = _sign_up_at_once(
        [
            {
                "business_name": f"Racer {n}",
                "subdomain": "photo-finish",
                "full_name": f"Racer {n}",
                "email": f"racer{n}@example.com",
            }
            for n in range(6)
        ]
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [302, 400, 400, 400, 400, 400]
    assert all("already taken" in body for status, body in results if status == 400)
    winner = Tenant.objects.get(subdomain="photo-finish")
    assert Domain.objects.filter(domain="photo-finish.localhost").count() == 1
    # Losers' claims rolled back: their spares are still spares, and no schema lost its row.
    assert Tenant.objects.spares().count() == spares_before - 1
    rows = set(Tenant.objects.values_list("schema_name", flat=True))
    assert _workspace_schemas_on_disk() <= rows
    assert winner.schema_name in _workspace_schemas_on_disk()


def test_concurrent_signups_with_an_empty_pool_still_make_one_each(committed_db):
    """With no spares, each signup copies the template itself; different subdomains all succeed."""
    Tenant.objects.spares().delete()  # committed: the rows go, the schemas stay until dropped below
    with connection.cursor() as cursor:
        for name in _workspace_schemas_on_disk() - set(Tenant.objects.values_list("schema_name", flat=True)):
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    results = _sign_up_at_once(
        [
            {
                "business_name": f"Shop {n}",
                "subdomain": f"empty-pool-{n}",
                "full_name": "Owner",
                "email": f"o{n}@example.com",
            }
            for n in range(3)
        ]
    )
    assert [status for status, _ in results] == [302, 302, 302]
    assert Tenant.objects.workspaces().filter(subdomain__startswith="empty-pool-").count() == 3
    assert _workspace_schemas_on_disk() == set(
        Tenant.objects.exclude(kind="public").exclude(kind="template").values_list("schema_name", flat=True)
    )


def test_the_worker_tops_the_pool_up_after_a_signup(committed_db, settings):
    settings.SCHEMA_POOL_SIZE = Tenant.objects.spares().count()
    response = host_client("localhost").post(
        "/signup/",
        {
            "business_name": "Refill",
            "subdomain": "refill",
            "full_name": "Owner",
            "email": "o@refill.test",
            "password": PASSWORD,
            "accept_terms": "on",
        },
    )
    assert response.status_code == 302
    assert Tenant.objects.spares().count() == settings.SCHEMA_POOL_SIZE - 1  # signup did not wait for a refill
    assert jobs_by_status(pool.REFILL_TASK) == {"todo": 1}
    worker_thread_run(queues=["maintenance"])
    assert jobs_by_status(pool.REFILL_TASK) == {"succeeded": 1}
    assert Tenant.objects.spares().count() == settings.SCHEMA_POOL_SIZE


def test_one_refill_waits_in_the_queue_however_many_signups_ask(db):
    for _ in range(3):
        pool.pool_refill_soon()
    pool_refills = [call for call in connection.run_on_commit]
    assert len(pool_refills) == 3
    for _, callback, _ in connection.run_on_commit:
        callback()
    assert jobs_by_status(pool.REFILL_TASK) == {"todo": 1}
