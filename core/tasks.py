"""Housekeeping of the queue itself."""

import logging

from procrastinate.contrib.django import app

from core import metrics

logger = logging.getLogger(__name__)

# A job still "doing" on a worker that stopped sending heartbeats (killed, machine lost) is run again.
STALLED_AFTER_SECONDS = 120
KEEP_FINISHED_JOBS_HOURS = 24 * 14


@app.periodic(cron="*/5 * * * *")
@app.task(name="core.retry_stalled_jobs", queue="maintenance", queueing_lock="retry-stalled-jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    count = 0
    for job in stalled:
        if job.id == context.job.id:
            continue
        await app.job_manager.retry_job(job)
        logger.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        count += 1
    return count


@app.periodic(cron="45 4 * * *")
@app.task(name="core.delete_old_jobs", queue="maintenance", queueing_lock="delete-old-jobs")
async def delete_old_jobs(timestamp: int) -> None:
    """Finished jobs older than two weeks go; failed ones stay until an operator deals with them."""
    await app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_JOBS_HOURS)


@app.periodic(cron="*/10 * * * *")
@app.task(name="core.measure_database_size", queue="maintenance", queueing_lock="measure-database-size")
def measure_database_size(timestamp: int) -> int:
    """The database's size for the operators' dashboard (core/metrics.py says why not on the page)."""
    return metrics.database_size_measure()["bytes"]
