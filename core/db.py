"""Django's default connection, typed as django-tenants makes it.

The ENGINE is `django_tenants.postgresql_backend` (config/settings/base.py): its wrapper carries the current
schema and the calls that set it, which Django's types do not know. `connection` here is the very object
`django.db.connection` is; import it from here where the schema is read or set, so mypy checks those uses."""

from typing import TYPE_CHECKING, cast

from django.db import connection as _connection

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    class TenantDatabaseWrapper(BaseDatabaseWrapper):
        """What django-tenants' DatabaseWrapper adds (django_tenants ships no types)."""

        schema_name: str

        def set_schema(self, schema_name: str, include_public: bool = True) -> None: ...

        def set_schema_to_public(self) -> None: ...


connection = cast("TenantDatabaseWrapper", _connection)
