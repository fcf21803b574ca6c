"""The test suite's settings (pyproject.toml points pytest here): the base settings in APP_ENV=test,
whatever the environment or .env says, plus what only tests want."""

import os

os.environ["APP_ENV"] = "test"

from config.settings.base import *  # noqa: E402,F403
from config.settings.base import PASSWORD_HASHERS  # noqa: E402

# Fast hashing: the suite logs in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
