"""gunicorn's settings for the web process (the Procfile runs `gunicorn config.wsgi -c gunicorn.conf.py`).

Every knob comes from the environment (.env.example): WEB_CONCURRENCY workers (default: one per core,
at least 2) of WEB_THREADS threads each, WEB_TIMEOUT, WEB_MAX_REQUESTS with jitter (a worker is replaced
after that many requests, which bounds slow memory growth; staggered so that they do not all restart at
once), graceful shutdown within WEB_GRACEFUL_TIMEOUT on SIGTERM (requests in flight finish). gunicorn
believes X-Forwarded-Proto only from TRUSTED_PROXIES; the client address is the app's business
(core/http.py, same list). The access log is one JSON line per request on stdout, tokens scrubbed from
the URL (core/scrub.py); `remote` is the connecting peer (the proxy), `request_id` the proxy's header.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = f"{os.environ.get('BIND_ADDRESS', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = _int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1))
threads = _int("WEB_THREADS", 1)
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 20)
keepalive = 5  # behind a proxy that reuses upstream connections
max_requests = _int("WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = (
    ",".join(proxy.strip() for proxy in os.environ.get("TRUSTED_PROXIES", "").split(",") if proxy.strip())
    or "127.0.0.1"
)
proxy_allow_ips = forwarded_allow_ips
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "core.scrub.GunicornLogger"  # scrubs tokens and JSON-escapes every field
access_log_format = (
    '{"event": "http", "level": "info", "logger": "gunicorn.access", "timestamp": "%(timestamp)s",'
    ' "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s",'
    ' "query": "%(q)s", "status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "referer": "%(f)s",'
    ' "user_agent": "%(a)s", "host": "%({host}i)s", "request_id": "%({x-request-id}i)s"}'
)
# gunicorn 27's control socket has one fixed path: two instances on one machine would share it.
control_socket_disable = True
