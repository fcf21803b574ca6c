from django.db import migrations

DEFAULT_PLANS = [
    ("starter", "Starter", "For a small team getting organised.", 19, 190, 5, 1),
    ("growth", "Growth", "For a growing business with several teams.", 49, 490, 25, 2),
    ("scale", "Scale", "Unlimited members and priority support.", 129, 1290, None, 3),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for slug, name, summary, monthly, yearly, limit, order in DEFAULT_PLANS:
        Plan.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name, "summary": summary, "monthly_price": monthly, "yearly_price": yearly,
                "member_limit": limit, "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
