"""Migrate the public schema and every workspace schema, in seconds at thousands of workspaces.

django-tenants' `migrate_schemas` runs Django's whole `migrate` command once per schema: it loads the
migration graph, reads that schema's history and replays every applied migration's state (dj-stripe's
hundreds of operations included) before it can even decide that nothing is to be done: 0.35 s per
schema, an hour at 10,000 workspaces (docs/performance.md). Here:

1. The public schema is migrated by Django's own executor, as before, when it has anything pending.
2. One catalog pass fingerprints every tenant schema's `django_migrations` (a hash of its rows): the
   schemas that share a fingerprint share a migration state.
3. Per fingerprint, once: Django's executor works out the plan on one schema of the group; an empty
   plan settles the whole group. Otherwise the project state before and after every pending operation
   is rendered once, in this process.
4. Worker processes (MIGRATION_WORKERS, forked so they inherit those states) apply the operations to
   each schema of the group exactly as `Migration.apply` would (one transaction per migration, SQL and
   RunPython alike), record them in that schema's `django_migrations` and send pre/post_migrate (content
   types and permissions) for the apps the plan migrates. Schemas with no history yet, or a plan too
   long to hold every intermediate state in memory, go through django-tenants' usual per-schema path in
   the same workers.

A schema that fails is reported with its error and the others carry on; the run then ends non-zero and
can simply be re-run (finished schemas have nothing left to do). One run at a time: a second one waits
on a PostgreSQL advisory lock. Spares cloned from the template while the run went on are picked up by a
last pass.
"""

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.exceptions import InconsistentMigrationHistory
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ModelState, ProjectState, StateApps
from django.db.models.signals import post_migrate, pre_migrate
from django_tenants.utils import get_public_schema_name

from core.db import connection

MIGRATE_LOCK = 7_301_003  # advisory lock key (tenants/schemas/pool.py holds the others)
FINGERPRINT_BATCH = 500  # schemas per catalog query
# A plan longer than this (a schema starting from nothing) is applied by Django's executor per schema
# rather than holding the project state after every one of its operations in memory.
SHARED_PLAN_MAX_OPERATIONS = 200


@dataclass
class SchemaResult:
    schema: str
    migrations: int = 0
    error: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    public_migrations: int = 0
    schemas: int = 0
    up_to_date: int = 0
    migrated: list[SchemaResult] = field(default_factory=list)
    failed: list[SchemaResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


ProgressCallback = Callable[[int, int], None]
MigrationPlan = list[tuple[Migration, bool]]  # (migration, backwards), as MigrationExecutor.migration_plan answers


def workspaces_migrate(
    *,
    workers: int | None = None,
    schemas: list[str] | None = None,
    public: bool = True,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Report:
    """Bring the public schema (unless `public` is False) and every tenant schema (or only `schemas`)
    up to date. `progress(done, total)` is called as schemas finish; `on_wait()` once if another run
    holds the lock."""
    started = time.perf_counter()
    workers = max(1, workers or settings.MIGRATION_WORKERS)
    report = Report()
    with _run_lock(on_wait):
        connection.set_schema_to_public()
        if public:
            report.public_migrations = _public_migrate()
        seen: set[str] = set()
        while True:  # a second pass catches spares cloned from the template while the first one ran
            pending = [name for name in (schemas if schemas is not None else _tenant_schemas()) if name not in seen]
            if not pending:
                break
            seen.update(pending)
            report.schemas += len(pending)
            _schemas_migrate(pending, workers=workers, report=report, progress=progress)
            if schemas is not None:
                break
    connection.set_schema_to_public()
    report.seconds = time.perf_counter() - started
    return report


class _run_lock:
    """A session advisory lock on a connection of its own: the workers' forks close Django's."""

    def __init__(self, on_wait):
        self.on_wait = on_wait

    def __enter__(self):
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.conn = psycopg.connect(**params, autocommit=True)
        acquired = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK]).fetchone()
        if not (acquired and acquired[0]):
            if self.on_wait:
                self.on_wait()
            self.conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK])
        return self

    def __exit__(self, *exc):
        self.conn.close()  # ends the session, and so the lock


def _public_migrate() -> int:
    connection.set_schema_to_public()
    executor = MigrationExecutor(connection)
    _replacements_check(executor.loader)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        connection.set_schema_to_public()
    else:
        # What Django's migrate does last: a replacing migration whose replaced ones are all applied (a
        # database migrated with dj-stripe's own history) is recorded too, and showmigrations says so.
        executor.check_replacements()
    return len(plan)


def _replacements_check(loader) -> None:
    """Django handles a partially applied history by running the rest of the replaced migrations, which
    needs their files. dj-stripe's are not loaded (billing/djstripe_migrations replaces them), so the rest
    would silently never run: refuse instead. Only an interrupted first migrate leaves such a history."""
    for key, migration in loader.replacements.items():
        applied = [target for target in migration.replaces if target in loader.applied_migrations]
        missing = [target for target in migration.replaces if target not in loader.applied_migrations]
        if applied and missing and any(target not in loader.disk_migrations for target in missing):
            raise InconsistentMigrationHistory(
                f"{key[0]}: {', '.join(name for _, name in applied)} applied but not "
                f"{', '.join(name for _, name in missing)}, which {key[1]} replaces and whose files are not "
                "loaded: apply them with the release that still has them, then migrate again."
            )


def _tenant_schemas() -> list[str]:
    """Every tenant row's schema that exists: workspaces, closed ones not yet purged, template, spares."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.schema_name FROM tenants_tenant t JOIN pg_namespace n ON n.nspname = t.schema_name"
            " WHERE t.schema_name <> %s ORDER BY t.id",
            [get_public_schema_name()],
        )
        return [row[0] for row in cursor.fetchall()]


def _fingerprints(schemas: list[str]) -> dict[str, str | None]:
    """Schema -> hash of its django_migrations rows (None: it has no such table yet). Set-based: one
    catalog query, then one query per FINGERPRINT_BATCH schemas."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [schemas],
        )
        with_history = {row[0] for row in cursor.fetchall()}
        result: dict[str, str | None] = {name: None for name in schemas if name not in with_history}
        names = [name for name in schemas if name in with_history]
        for start in range(0, len(names), FINGERPRINT_BATCH):
            batch = names[start : start + FINGERPRINT_BATCH]
            sql = " UNION ALL ".join(
                "SELECT %s, md5(string_agg(app || '.' || name, ',' ORDER BY app, name))"
                f" FROM {quote(name)}.django_migrations"
                for name in batch
            )
            cursor.execute(sql, batch)
            result.update(dict(cursor.fetchall()))
    return result


@dataclass
class _Step:
    """One pending migration with the project state before and after each of its operations."""

    migration: Migration
    operations: list[tuple[Operation, ProjectState, ProjectState]]


@dataclass
class _Job:
    """What the forked workers inherit: a group's plan and rendered states (None: the per-schema path)."""

    plan: MigrationPlan | None = None
    steps: list[_Step] = field(default_factory=list)
    pre_apps: StateApps | None = None
    post_apps: StateApps | None = None


_job = _Job()


def _schemas_migrate(schemas, *, workers: int, report: Report, progress: ProgressCallback | None) -> None:
    groups: dict[str | None, list[str]] = {}
    for name, fingerprint in _fingerprints(schemas).items():
        groups.setdefault(fingerprint, []).append(name)
    done = 0
    total = len(schemas)
    for fingerprint, members in groups.items():
        job = _job_for(members[0]) if fingerprint is not None else _Job()
        if job.plan == []:
            report.up_to_date += len(members)
            done += len(members)
            if progress:
                progress(done, total)
            continue
        for result in _run(job, members, workers=workers):
            (report.failed if result.error else report.migrated).append(result)
            done += 1
            if progress:
                progress(done, total)


def _job_for(schema: str) -> _Job:
    """Plan and states for every schema whose history equals `schema`'s, worked out once."""
    connection.set_schema(schema)
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        connection.set_schema_to_public()
        return _Job(plan=[])
    if any(backwards for _, backwards in plan) or (
        sum(len(migration.operations) for migration, _ in plan) > SHARED_PLAN_MAX_OPERATIONS
    ):
        connection.set_schema_to_public()
        return _Job()
    state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]  # private API
    pre_apps = state.apps  # rendered here, once, not in every worker
    steps = []
    for migration, _ in plan:
        operations = []
        for operation in migration.operations:
            after = state.clone()
            operation.state_forwards(migration.app_label, after)
            operations.append((operation, state, after))
            state = after
        steps.append(_Step(migration, operations))
    connection.set_schema_to_public()
    return _Job(plan=plan, steps=steps, pre_apps=pre_apps, post_apps=_post_migrate_apps(state))


def _post_migrate_apps(state):
    """The apps that post_migrate receivers get, as Django's migrate command builds them."""
    state = state.clone()
    state.clear_delayed_apps_cache()
    post_apps = state.apps
    with post_apps.bulk_update():
        keys = []
        for model_state in post_apps.real_models:
            keys.append((model_state.app_label, model_state.name_lower))
            post_apps.unregister_model(*keys[-1])
    post_apps.render_multiple([ModelState.from_model(django_apps.get_model(*key)) for key in keys])
    return post_apps


def _run(job: _Job, schemas: list[str], *, workers: int):
    global _job
    _job = job
    if workers == 1 or len(schemas) == 1:
        yield from (_schema_migrate(name) for name in schemas)
        connection.set_schema_to_public()
        return
    connections.close_all()  # the forks must not share the parent's socket
    with multiprocessing.get_context("fork").Pool(min(workers, len(schemas))) as pool:
        yield from pool.imap_unordered(_schema_migrate, schemas, chunksize=4)
    connection.set_schema_to_public()


def _schema_migrate(schema: str) -> SchemaResult:
    """Apply the current job's plan to one schema (in a worker, or in-process with one worker)."""
    started = time.perf_counter()
    result = SchemaResult(schema=schema)
    try:
        if _job.plan is None:
            call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
            result.migrations = -1  # Django's executor counted them, not us
        else:
            _apply(schema, plan=_job.plan)
            result.migrations = len(_job.steps)
    except Exception as exc:  # reported per schema; the others carry on
        result.error = f"{type(exc).__name__}: {exc}".strip()
    finally:
        connection.set_schema_to_public()
    result.seconds = time.perf_counter() - started
    return result


def _apply(schema: str, *, plan: MigrationPlan) -> None:
    """What MigrationExecutor.apply_migration and Migration.apply do, with states rendered beforehand."""
    connection.set_schema(schema)
    recorder = MigrationRecorder(connection)
    # The fingerprint pass found the table: no introspection round per record.
    recorder._has_table = True  # type: ignore[attr-defined]  # private API
    _signal(pre_migrate, _job.pre_apps, plan=plan)
    for step in _job.steps:
        migration = step.migration
        recorded = False
        with connection.schema_editor(atomic=migration.atomic) as editor:
            for operation, before, after in step.operations:
                atomic_operation = operation.atomic or (migration.atomic and operation.atomic is not False)
                if not editor.atomic_migration and atomic_operation:
                    with transaction.atomic():
                        operation.database_forwards(migration.app_label, editor, before, after)
                else:
                    operation.database_forwards(migration.app_label, editor, before, after)
            if not editor.deferred_sql:
                _record(recorder, migration)
                recorded = True
        if not recorded:
            _record(recorder, migration)
    _signal(post_migrate, _job.post_apps, plan=plan)


def _signal(signal, state_apps, *, plan: MigrationPlan) -> None:
    """pre/post_migrate as Django's migrate sends them, but only for the apps the plan migrates: the
    others' content types and permissions cannot have changed (Django sends it for every app, which
    costs ~70 queries per schema here)."""
    labels = {migration.app_label for migration, _ in plan}
    for app_config in django_apps.get_app_configs():
        if app_config.label in labels and app_config.models_module is not None:
            signal.send(
                sender=app_config,
                app_config=app_config,
                verbosity=0,
                interactive=False,
                using=DEFAULT_DB_ALIAS,
                apps=state_apps,
                plan=plan,
            )


def _record(recorder: MigrationRecorder, migration) -> None:
    for app_label, name in migration.replaces or [(migration.app_label, migration.name)]:
        recorder.record_applied(app_label, name)
