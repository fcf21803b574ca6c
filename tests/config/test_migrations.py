from io import StringIO

from django.core.management import call_command


def test_every_model_change_has_its_migration(db):
    """Also checks billing/djstripe_migrations (dj-stripe's history replaced by one migration) against its models."""
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as error:
        raise AssertionError(f"missing migrations:\n{out.getvalue()}") from error
