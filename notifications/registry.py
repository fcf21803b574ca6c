"""The kinds of email the portal sends. Each app declares its own in `<app>/emails.py`:

    register(EmailKind(name="welcome", label="Welcome", essential=False, build=..., sample=...))

`build(email)` runs in the worker when the email is sent, inside the workspace's schema, and returns the
template context (it may raise `EmailObsolete` when the email no longer applies, e.g. a revoked
invitation). `sample()` returns a context for the operators' preview page. Templates are
`templates/emails/<name>_subject.txt`, `<name>.txt` and `<name>.html`.
"""

from collections.abc import Callable
from dataclasses import dataclass


class EmailObsolete(Exception):
    """The email no longer applies (what it was about changed since it was queued): it is not sent."""


@dataclass(frozen=True)
class EmailKind:
    name: str
    label: str
    essential: bool  # password reset, invitations, account notices: sent even to a suppressed address
    build: Callable[..., dict]
    sample: Callable[[], dict]


_kinds: dict[str, EmailKind] = {}


def register(kind: EmailKind) -> EmailKind:
    if kind.name in _kinds and _kinds[kind.name] != kind:
        raise ValueError(f"email kind {kind.name} is registered twice")
    _kinds[kind.name] = kind
    return kind


def kind_get(name: str) -> EmailKind:
    return _kinds[name]


def kinds() -> list[EmailKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.label)
