import json
from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console import launch
from console.models import LaunchCheckRun
from core import health


class Command(BaseCommand):
    help = (
        "Check the launch checklist (database, check --deploy, environment, TLS, monitoring, Redis, worker, "
        "backups, DNS, Stripe, email, legal pages, load test, operators' 2FA) against this deployment. "
        "Exit code 1 on any FAIL; the run is stored for the admin (Launch check runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the results as JSON.")

    def handle(self, *args, as_json: bool = False, **options):
        results = launch.launch_checks_run()
        summary = launch.launch_summary(results)
        try:
            launch.launch_check_record(results=results)
        except Exception as error:  # the database may be the very thing that is down
            self.stderr.write(f"The run was not stored: {health.error_text(error)}")
        if as_json:
            body = {"environment": settings.APP_ENV, "summary": summary, "checks": [asdict(c) for c in results]}
            self.stdout.write(json.dumps(body, indent=2))
        else:
            for line in LaunchCheckRun.report_lines([asdict(check) for check in results]):
                self.stdout.write(line)
            self.stdout.write(
                f"\n{summary[launch.PASS]} PASS, {summary[launch.WARN]} WARN, {summary[launch.FAIL]} FAIL"
                f" ({settings.APP_ENV})"
            )
        if summary[launch.FAIL]:
            raise CommandError(f"{summary[launch.FAIL]} launch check item(s) FAIL", returncode=1)
