"""An embedded PostgreSQL (pgserver) for development and tests when DATABASE_URL is not set.

It keeps running between commands (cleanup_mode=None), so only the first command of a session pays
the 0.5 s start. Never used in production: settings require DATABASE_URL there.
"""

import warnings
from pathlib import Path


def embedded_database(data_dir: Path) -> dict:
    # platformdirs (via pgserver) warns when XDG_RUNTIME_DIR is unset, as it is for root and in CI.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    # django-environ cannot parse a socket path in the URL host, so build the dict directly.
    return {
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(server.pgdata),
        "PORT": "",
    }
