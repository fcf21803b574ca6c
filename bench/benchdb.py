"""The database a bench script runs against: its own, on the server of DATABASE_URL (or the embedded one),
created if missing (and dropped first unless the run reuses it)."""

import os


def bench_settings(*, name: str, reset: bool) -> None:
    """Set Django up on the database `name` (call before importing models)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ["APP_ENV"] = "development"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    import psycopg
    from django.conf import settings

    django.setup()
    db = settings.DATABASES["default"]
    params = {"user": db["USER"], "host": db["HOST"], "port": db["PORT"] or None, "password": db["PASSWORD"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        if reset:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f"CREATE DATABASE {name}")
    db["NAME"] = name


def bench_database(*, name: str, reset: bool) -> None:
    """bench_settings, then `bootstrap` (the public schema, the template, the spare pool), timed."""
    import time

    bench_settings(name=name, reset=reset)
    from django.core.management import call_command

    started = time.perf_counter()
    print(f"Preparing the database {name} (the first run migrates: about half a minute)...", flush=True)
    call_command("bootstrap", verbosity=0, stdout=open(os.devnull, "w"))
    print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
