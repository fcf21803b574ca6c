"""Trial reminders over a whole trial, in travelled time, with the sweep running through the queue."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import BillingAccount
from billing.reminders import reminders_due
from billing.tasks import trial_reminders_sweep
from core.audit import ActorKind
from notifications.models import EmailLog, Notice
from tenants import services
from tests.support.queue import jobs_run

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def acme(make_workspace):
    with time_machine.travel(START, tick=False):
        return make_workspace("acme", business_name="Acme", owner_email="owner@acme.test")


def sweep_at(moment: datetime) -> None:
    """The hourly periodic job, deferred and worked as the worker's schedule would at `moment`."""
    with time_machine.travel(moment, tick=False):
        trial_reminders_sweep.defer(timestamp=int(moment.timestamp()))
        jobs_run()


def sweep_every(hours: int, *, start: datetime, until: datetime, skip=lambda moment: False) -> None:
    moment = start
    while moment <= until:
        if not skip(moment):
            sweep_at(moment)
        moment += timedelta(hours=hours)


def reminders_sent(tenant) -> list[tuple[str, float]]:
    """(reminder, days before the trial's end when it was sent) for each trial email actually sent."""
    sent = EmailLog.objects.filter(tenant=tenant, kind__in=["trial_ending", "trial_ended"], status="sent")
    return [
        (email.params["reminder"], round((tenant.trial_ends_at - email.sent_at).total_seconds() / 86400, 2))
        for email in sent.order_by("sent_at", "pk")
    ]


def test_a_14_day_trial_gets_each_reminder_on_its_day_exactly_once(acme):
    sweep_every(1, start=START, until=START + timedelta(days=16))
    assert reminders_sent(acme) == [
        ("trial_ending_7", 7.0),
        ("trial_ending_3", 3.0),
        ("trial_ending_1", 1.0),
        ("trial_ended", 0.0),
    ]


def test_subject_counts_the_days_left(acme):
    sweep_at(START + timedelta(days=11, hours=1))
    from django.core import mail

    assert [m.subject for m in mail.outbox] == ["Your Portal trial for Acme ends in 3 days"]
    assert mail.outbox[0].to == ["owner@acme.test"]


def test_a_sweep_down_for_a_day_sends_the_reminder_due_once_it_is_back(acme):
    end = acme.trial_ends_at
    down = lambda moment: end - timedelta(days=1, hours=12) <= moment < end - timedelta(hours=12)  # noqa: E731
    sweep_every(1, start=end - timedelta(days=2), until=end - timedelta(hours=1), skip=down)
    assert reminders_sent(acme) == [("trial_ending_3", 2.0), ("trial_ending_1", 0.5)]


def test_after_a_long_outage_only_the_reminder_due_now_goes_out(acme):
    end = acme.trial_ends_at
    sweep_every(6, start=end - timedelta(days=8), until=end - timedelta(days=6, hours=12))
    sweep_at(end - timedelta(hours=20))  # back after the 3-day mark has passed unseen
    assert reminders_sent(acme) == [("trial_ending_7", 7.0), ("trial_ending_1", 0.83)]


def test_extending_the_trial_re_arms_the_reminders_for_the_new_end(acme):
    first_end = acme.trial_ends_at
    sweep_at(first_end - timedelta(days=6))  # the 7-day reminder
    with time_machine.travel(first_end - timedelta(days=6), tick=False):
        acme = services.tenant_extend_trial(tenant=acme, days=7, actor="op@example.com")
    sweep_every(6, start=first_end - timedelta(days=6), until=acme.trial_ends_at - timedelta(hours=1))
    kinds = [kind for kind, _ in reminders_sent(acme)]
    assert kinds == ["trial_ending_7", "trial_ending_7", "trial_ending_3", "trial_ending_1"]
    occasions = Notice.objects.filter(tenant=acme, kind="trial_ending_7").values_list("occasion", flat=True)
    assert len(set(occasions)) == 2


@pytest.mark.parametrize("state", ["subscribed", "stripe_trial", "comped", "suspended", "closed"])
def test_workspaces_that_pay_or_cannot_be_used_get_no_reminders(acme, state):
    if state in ("subscribed", "stripe_trial", "comped"):
        BillingAccount.objects.create(
            tenant=acme,
            subscription_status={"subscribed": "active", "stripe_trial": "trialing"}.get(state, ""),
            comped=state == "comped",
        )
    elif state == "suspended":
        services.tenant_suspend(tenant=acme, actor="op@example.com")
    else:
        services.tenant_close(tenant=acme, actor="owner@acme.test")
    EmailLog.objects.all().delete()
    sweep_every(6, start=START, until=acme.trial_ends_at + timedelta(days=1))
    assert reminders_sent(acme) == []
    assert not EmailLog.objects.filter(kind__startswith="trial_").exists()


def test_billing_contact_gets_them_too(acme):
    services.tenant_update_settings(
        tenant=acme, actor="x", actor_kind=ActorKind.OWNER, business_name="Acme", billing_email="pay@acme.test"
    )
    sweep_at(acme.trial_ends_at - timedelta(hours=3))
    sent = EmailLog.objects.filter(kind="trial_ending").order_by("to")
    assert [email.to for email in sent] == ["owner@acme.test", "pay@acme.test"]


def test_the_selection_is_one_query_on_the_public_schema(make_workspace):
    for n in range(4):
        make_workspace(f"bulk{n}")
    for now, expected in ((START + timedelta(days=30), 0), (datetime.now(UTC) + timedelta(days=13, hours=12), 4)):
        with CaptureQueriesContext(connection) as queries:
            due = reminders_due(now=now)
        selects = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
        assert len(selects) == 1 and "ws_" not in selects[0]
        assert len(due) == expected
    assert {d.kind for d in due} == {"trial_ending_1"}


def test_an_operator_setting_the_trial_to_end_tomorrow_gets_the_1_day_reminder_at_once(acme, operator_client):
    response = operator_client.post(
        "/admin/tenants/tenant/",
        {"action": "trial_end_set", "_selected_action": [acme.pk], "days": "1", "index": 0},
    )
    assert response.status_code == 302
    jobs_run()
    sent = EmailLog.objects.get(kind="trial_ending", tenant=acme)
    assert sent.status == "sent" and sent.params["reminder"] == "trial_ending_1"
    assert "ends in 1 day" in sent.subject


def test_send_trial_reminders_command_twice_queues_nothing_the_second_time(acme, capsys):
    with time_machine.travel(acme.trial_ends_at - timedelta(days=2), tick=False):
        call_command("send_trial_reminders")
        call_command("send_trial_reminders")
    output = capsys.readouterr().out
    assert "Queued 1 trial reminder(s): acme: trial_ending_3" in output
    assert "Queued 0 trial reminder(s)." in output
    assert EmailLog.objects.filter(kind="trial_ending").count() == 1
