import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.exceptions import InconsistentMigrationHistory

from tenants.schemas.migrator import workspaces_migrate


class Command(BaseCommand):
    help = (
        "Migrate the public schema, then every workspace schema (template and spares included): up-to-date "
        "schemas are found in one catalog pass and skipped, pending migrations are planned once and applied "
        "in parallel (MIGRATION_WORKERS). Safe to re-run; a second run waits for the first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=settings.MIGRATION_WORKERS, help="Parallel connections.")
        parser.add_argument("--schema", dest="schemas", action="append", help="Only this schema (repeatable).")
        parser.add_argument("--skip-public", action="store_true", help="Leave the public schema alone.")

    def handle(self, *args, workers, schemas, skip_public, **options):
        verbosity = options["verbosity"]
        self.started = time.monotonic()
        self.last_line = 0.0
        try:
            report = workspaces_migrate(
                workers=workers,
                schemas=schemas,
                public=not skip_public,
                progress=self._progress if verbosity else None,
                on_wait=lambda: self.stderr.write("Another migration run is in progress: waiting for it to finish..."),
            )
        except InconsistentMigrationHistory as error:
            raise CommandError(str(error)) from error
        if verbosity:
            self._end_progress_line()
            if report.public_migrations:
                self.stdout.write(f"Public schema: {report.public_migrations} migration(s) applied.")
            self.stdout.write(
                f"{report.schemas:,} workspace schema(s): {report.up_to_date:,} already up to date, "
                f"{len(report.migrated):,} migrated, {len(report.failed):,} failed ({report.seconds:.1f} s)."
            )
        for failure in report.failed:
            self.stderr.write(f"  {failure.schema}: {failure.error}")
        if not report.ok:
            raise CommandError(
                f"{len(report.failed)} schema(s) failed to migrate (listed above); the others are done. "
                "Fix the cause and run the command again."
            )

    def _progress(self, done: int, total: int) -> None:
        """One line rewritten in place on a terminal; a line every 10 s (and at the end) otherwise."""
        now = time.monotonic()
        elapsed = now - self.started
        interactive = sys.stderr.isatty()
        if not interactive and done < total and now - self.last_line < 10:
            return
        self.last_line = now
        rate = done / elapsed if elapsed else 0.0
        eta = (total - done) / rate if rate else 0.0
        line = f"Schemas {done:,}/{total:,}  {rate:,.0f}/s  ETA {eta:,.0f} s"
        if interactive:
            self.stderr.write("\r" + line, style_func=str, ending="")
            self.stderr.flush()
            self.progress_open = True
        else:
            self.stderr.write(line, style_func=str)

    def _end_progress_line(self) -> None:
        if getattr(self, "progress_open", False):
            self.stderr.write("", style_func=str)
