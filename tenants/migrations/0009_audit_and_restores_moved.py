# AuditEvent moved to core (the audit trail sits at the bottom) and RestoreRequest to console (the
# operators' console). State only: both keep their tables, so no row moves. See core 0003 and console 0001.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0008_audit_email_resent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="RestoreRequest"),
            ],
        ),
    ]
