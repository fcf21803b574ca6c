"""Production: the base settings in APP_ENV=production, refused at start when a value is unsafe
(core/checks.py names each problem; `manage.py check --deploy` lists the same)."""

import os

os.environ["APP_ENV"] = "production"

from config.settings.base import *  # noqa: E402,F403
from config.settings.base import SECURE_HSTS_PRELOAD  # noqa: E402
from core.checks import refuse_unsafe_settings  # noqa: E402

# Cookie names with the __Host- prefix: the browser then refuses them unless Secure, without a Domain,
# for path /, so no subdomain, and no workspace, can set or shadow them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

refuse_unsafe_settings(globals())
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way commitment for the whole domain: off until the operator chooses it
    # (SECURE_HSTS_PRELOAD=true), and Django's reminder about it is not an issue of this deployment.
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
