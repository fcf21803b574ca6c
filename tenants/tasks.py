"""Background work on workspace schemas: keeping the spare pool full (tenants/schemas/pool.py)."""

from procrastinate.contrib.django import app

from tenants.schemas import pool


@app.task(name=pool.REFILL_TASK, queue="maintenance")
def pool_refill() -> int:
    """Top the spare pool up (queued after each signup; one waits at a time)."""
    return pool.pool_fill()


@app.periodic(cron="*/10 * * * *")
@app.task(name="tenants.pool_refill_periodic", queue="maintenance", queueing_lock="pool-refill-periodic")
def pool_refill_periodic(timestamp: int) -> int:
    """Also every ten minutes, in case a refill failed or SCHEMA_POOL_SIZE grew."""
    return pool.pool_fill()
