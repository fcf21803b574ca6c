"""The operators' admin site: django-otp's (a password and a code from an authenticator, its login
throttled like the workspaces') with the dashboard (console/dashboard.py) on its index, above the list of
apps. Installed as the default admin site by console.apps.OperatorsAdminConfig."""

from django_otp.admin import OTPAdminSite

from console import dashboard
from console.admin_guard import throttled_login

CHART_WIDTH = 900  # about the width it is drawn at, so that labels keep the admin's text size
CHART_HEIGHT = 110
CHART_LABEL_SPACE = 18


class OperatorAdminSite(OTPAdminSite):
    site_header = "Portal operations"
    site_title = "Portal operations"
    index_title = "Workspaces and operations"
    enable_nav_sidebar = False

    def __init__(self, name: str = "admin") -> None:
        # OTPAdminSite names itself "otpadmin"; the default site keeps Django's name (admin:... URLs, current_app).
        super().__init__(name)

    def login(self, request, extra_context=None):
        return throttled_login(super().login)(request, extra_context)

    def index(self, request, extra_context=None):
        figures = dashboard.dashboard()
        figures["signups_chart"] = signups_chart(figures["business"]["signups"]["days"])
        return super().index(request, extra_context={"dashboard": figures, **(extra_context or {})})


def signups_chart(days: list[dict]) -> dict:
    """Bar geometry for the inline SVG of signups per day (drawn on the server: no script, no library)."""
    highest = max((day["count"] for day in days), default=0) or 1
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = round(day["count"] / highest * CHART_HEIGHT, 1)
        bars.append(
            {
                **day,
                "x": round(index * slot + 1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(slot - 2, 1),
                "height": height,
                "labelled": (len(days) - 1 - index) % 7 == 0,  # weekly, ending today
                # The last label (today) ends at the chart's right edge rather than running past it.
                "label_x": CHART_WIDTH if index == len(days) - 1 else round(index * slot + slot / 2, 1),
                "anchor": "end" if index == len(days) - 1 else "middle",
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT + CHART_LABEL_SPACE,
        "baseline": CHART_HEIGHT,
        "label_y": CHART_HEIGHT + 13,
        "highest": highest,
        "total": sum(day["count"] for day in days),
    }
