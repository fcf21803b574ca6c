"""Structured logs: one event per line, JSON in production, readable in development (LOG_FORMAT).

structlog renders every record, ours and the standard library's (Django, gunicorn's app side,
Procrastinate), through one chain: the request's context (request id, workspace, user id) is merged in,
exceptions are formatted, every string is scrubbed of tokens (core/scrub.py), then JSON or console text.
`RequestLogMiddleware` binds that context and writes one `request` line per request. We use structlog
directly rather than django-structlog: its client address comes from django-ipware, which would believe
an X-Forwarded-For we do not trust (core/http.py decides that, from TRUSTED_PROXIES).

People are logged by id, never by email or name; passwords, cookies and tokens never reach a line.
"""

import re
import time
import uuid

import structlog
from django.conf import settings
from django.utils.functional import empty

from core import metrics
from core.http import client_ip
from core.scrub import scrub, scrub_deep

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from the proxy is kept if it looks like one (Caddy's are UUIDs); anything else is replaced.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

logger = structlog.get_logger("portal")


_PLAIN = (str, int, float, bool, type(None), dict, list, tuple)


def _scrub_event(_, __, event_dict: dict) -> dict:
    """Every value as plain data (an object such as Django's `request` extra becomes its repr, which
    can hold a URL), then every string scrubbed; the stdlib's copy of the message is dropped."""
    event_dict.pop("message", None)
    plain = {key: value if isinstance(value, _PLAIN) else repr(value) for key, value in event_dict.items()}
    return scrub_deep(plain)


def formatter(*, json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of settings.LOGGING's handler (also configures structlog's own loggers)."""
    configure()
    return structlog.stdlib.ProcessorFormatter(**processors(json=json))


def processors(*, json: bool) -> dict:
    """The `foreign_pre_chain` and `processors` of the ProcessorFormatter."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    return {
        "foreign_pre_chain": [*shared, structlog.stdlib.ExtraAdder()],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub_event,
            renderer,
        ],
    }


def configure() -> None:
    """structlog's own loggers hand their events to the standard library's handlers (settings.LOGGING)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def request_id_for(request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")


class RequestLogMiddleware:
    """Binds the request id at once and the workspace once routed, answers with X-Request-ID, and logs
    one `request` line at the end (method, scrubbed path, status, duration, workspace, user id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            if not request.path.startswith(STATIC_PREFIX):  # WhiteNoise's files: not the app's error rate
                metrics.request_counted(response.status_code)
            logger.info(
                "request",
                method=request.method,
                path=scrub(request.path),
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                ip=client_ip(request),
                **request_context(request),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()


def request_context(request) -> dict:
    """The workspace (its subdomain, or "public") and the user id, if the request already knows them.
    Never loads the user just to log it: an anonymous page stays without a query."""
    context = {}
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        context["workspace"] = tenant.subdomain or "public"
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is not empty and wrapped is not None and getattr(wrapped, "is_authenticated", False):
        context["user_id"] = wrapped.pk
    return context


def logged_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the line names the person by id (and binds it for the rest of the request)."""
    structlog.contextvars.bind_contextvars(user_id=user.pk)
    logger.info("login")


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    """user_login_failed: never the address that was tried (nor, of course, the password)."""
    logger.info("login_failed")


def bind_request_context(request) -> None:
    """Called once the workspace (and maybe the user) is known, so every line of the request carries them."""
    structlog.contextvars.bind_contextvars(**request_context(request))
