# The console's models arrive with their tables and rows: LaunchCheckRun from core (core_launchcheckrun),
# RestoreRequest from tenants (tenants_restorerequest). State only; core 0003 moves their content types.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("core", "0003_auditevent_moved_launchcheckrun_moved"),
        ("tenants", "0009_audit_and_restores_moved"),
        migrations.swappable_dependency(settings.TENANT_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LaunchCheckRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("ran_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("environment", models.CharField(help_text="APP_ENV of the run.", max_length=16)),
                        ("passed", models.PositiveIntegerField()),
                        ("warned", models.PositiveIntegerField()),
                        ("failed", models.PositiveIntegerField()),
                        ("results", models.JSONField(help_text="One entry per item: name, status, reason, fix.")),
                    ],
                    options={"db_table": "core_launchcheckrun", "ordering": ["-ran_at", "-id"]},
                ),
                migrations.CreateModel(
                    name="RestoreRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("tenant_id", models.BigIntegerField()),
                        ("backup", models.CharField(help_text="Its name in the backups storage.", max_length=255)),
                        ("as_subdomain", models.CharField(blank=True, help_text="Empty: restored in place.", max_length=63)),
                        ("requested_by", models.CharField(help_text="The operator's email.", max_length=254)),
                        (
                            "status",
                            models.CharField(
                                choices=[("queued", "Queued"), ("running", "Running"), ("succeeded", "Succeeded"), ("failed", "Failed")],
                                db_index=True,
                                default="queued",
                                max_length=16,
                            ),
                        ),
                        ("progress", models.TextField(blank=True, help_text="The restore's steps so far, one a line.")),
                        ("result", models.TextField(blank=True)),
                        ("restored_tenant_id", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "tenant",
                            models.ForeignObject(
                                from_fields=["tenant_id"],
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="restore_requests",
                                to=settings.TENANT_MODEL,
                                to_fields=["id"],
                                verbose_name="workspace",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tenants_restorerequest",
                        "ordering": ["-created_at", "-id"],
                        "permissions": [("restore_workspace", "Can restore a workspace from a backup")],
                        "indexes": [models.Index(fields=["tenant_id", "-created_at"], name="tenants_res_tenant__b785a4_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status__in", ["queued", "running"])),
                                fields=("tenant_id",),
                                name="one_pending_restore_per_workspace",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
