"""The queue as production runs it: committed data, Procrastinate's worker with its own connections and
threads, concurrent sweeps on separate connections."""

import threading
from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from notifications.models import EmailLog, Notice
from notifications.services import email_queue
from tests.support.queue import jobs_by_status, worker_thread_run


def test_two_sweeps_at_the_same_moment_send_each_reminder_once(committed_db, make_committed_workspace):
    tenant = make_committed_workspace("twins")
    moment = tenant.trial_ends_at - timedelta(days=2)
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait()
            call_command("send_trial_reminders")
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    with time_machine.travel(moment, tick=False):  # process-wide: both threads see it
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert Notice.objects.filter(tenant=tenant).count() == 1
    assert EmailLog.objects.filter(tenant=tenant, kind="trial_ending").count() == 1
    worker_thread_run(queues=["emails"])
    assert EmailLog.objects.get(tenant=tenant, kind="trial_ending").status == "sent"


def test_a_job_queued_while_no_worker_runs_is_done_when_one_starts(make_committed_workspace):
    from django.core import mail

    tenant = make_committed_workspace("later")
    with transaction.atomic():
        email = email_queue(kind="welcome", to=tenant.owner_email, tenant=tenant)
    assert jobs_by_status("notifications.deliver") == {"todo": 1}  # no worker yet: it waits in PostgreSQL
    worker_thread_run()  # a worker starts (after a deploy, a crash, a restart)
    email.refresh_from_db()
    assert email.status == "sent" and [m.to for m in mail.outbox] == [[tenant.owner_email]]
    assert jobs_by_status("notifications.deliver") == {"succeeded": 1}


def test_a_job_left_doing_by_a_dead_worker_is_run_again(make_committed_workspace):
    from django.core import mail

    tenant = make_committed_workspace("crash")
    with transaction.atomic():
        email = email_queue(kind="welcome", to=tenant.owner_email, tenant=tenant)
    with connection.cursor() as cursor:  # a worker took the job, then its machine vanished
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", [worker_id])
    worker_thread_run()  # nothing to fetch: the job is "doing"
    assert jobs_by_status("notifications.deliver") == {"doing": 1}
    from core.tasks import retry_stalled_jobs

    retry_stalled_jobs.defer(timestamp=0)
    worker_thread_run()
    email.refresh_from_db()
    assert email.status == "sent" and len(mail.outbox) == 1
