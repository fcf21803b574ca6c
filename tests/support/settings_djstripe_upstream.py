"""The portal's settings with dj-stripe's own migration history instead of billing/djstripe_migrations: a
database as every release before that replacement migrated it (tests/billing/test_djstripe_migrations.py)."""

from config.settings.test import *  # noqa: F403

MIGRATION_MODULES = {app: module for app, module in MIGRATION_MODULES.items() if app != "djstripe"}  # noqa: F405
