# The audit trail's model arrives from tenants, keeping its table (tenants_auditevent) and rows; its action
# loses its database choices (registered in code, core/audit.py: a new action needs no migration).
# LaunchCheckRun leaves for console (console 0001), keeping its table. State only, both ways.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_types_follow(apps, schema_editor):
    """The moved models' content types (and so their permissions and admin log entries) follow them. If a
    process of the new release already made the new content type, the old one's permissions (unless the new
    one has the same codename), admin log entries and grants are moved onto it, and the old one goes."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    User, Group = apps.get_model(settings.AUTH_USER_MODEL), apps.get_model("auth", "Group")
    grants = [(User.user_permissions.through, "user_id"), (Group.permissions.through, "group_id")]
    moves = [("tenants", "auditevent", "core"), ("core", "launchcheckrun", "console"), ("tenants", "restorerequest", "console")]
    for old_app, model, new_app in moves:
        old = ContentType.objects.filter(app_label=old_app, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=new_app, model=model).first()
        if new is None:
            old.app_label = new_app
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.filter(content_type=old):
            twin = Permission.objects.filter(content_type=new, codename=permission.codename).first()
            if twin is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            for through, holder in grants:
                for grant in through.objects.filter(permission_id=permission.pk):
                    through.objects.get_or_create(permission_id=twin.pk, **{holder: getattr(grant, holder)})
            permission.delete()
        LogEntry.objects.filter(content_type=old).update(content_type=new)
        old.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_launchcheckrun"),
        ("tenants", "0009_audit_and_restores_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("admin", "0003_logentry_add_action_flag_choices"),
        migrations.swappable_dependency(settings.TENANT_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("tenant_label", models.CharField(blank=True, max_length=100)),
                        ("actor", models.CharField(help_text="Email of the person, or 'system'.", max_length=254)),
                        (
                            "actor_kind",
                            models.CharField(
                                choices=[("owner", "Owner"), ("member", "Member"), ("operator", "Operator"), ("system", "System"), ("stripe", "Stripe")],
                                db_index=True,
                                default="system",
                                max_length=16,
                            ),
                        ),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "tenant",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_events",
                                to=settings.TENANT_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tenants_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["tenant", "-created_at"], name="tenants_aud_tenant__e4e645_idx")],
                    },
                ),
                migrations.DeleteModel(name="LaunchCheckRun"),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
