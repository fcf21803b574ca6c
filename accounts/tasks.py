from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

from accounts import services
from tenants.models import Tenant


@app.task(name=services.PASSWORD_RESET_TASK, queue="emails")
def password_reset_request(*, tenant_id: int, email: str) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not tenant.is_workspace:
        return 0
    with schema_context(tenant.schema_name):
        return services.password_reset_send(email=email)
