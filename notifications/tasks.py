from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from notifications import services

# Five tries over about an hour: now, then after ~1, ~3, ~10 and ~50 minutes.
EMAIL_RETRY = RetryStrategy(max_attempts=4, wait=60, exponential_wait=7)


@app.task(name=services.DELIVER_TASK, queue="emails", pass_context=True, retry=EMAIL_RETRY)
def email_deliver_task(context, *, email_id: int) -> str:
    return services.email_deliver(email_id=email_id, final_attempt=context.job.attempts >= EMAIL_RETRY.max_attempts)
