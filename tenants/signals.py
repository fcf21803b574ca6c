"""What happens to a workspace, for the apps above tenants that must act on it (billing stops or resumes a
subscription, ...). Each is sent with `tenant=` by tenants/services.py inside the change's transaction, so a
receiver that queues a job queues it only if the change commits. This is the one way a lower layer starts
work in a higher one (docs/architecture.md): receivers are connected in the higher app's AppConfig.ready."""

from django.dispatch import Signal

# The owner closed the workspace (read-only; deleted after DELETION_GRACE_DAYS).
workspace_closed = Signal()
# An operator reopened a closed workspace.
workspace_reopened = Signal()
# An operator lifted a suspension: the workspace is trialing until its subscription says otherwise.
workspace_activated = Signal()
# A closed workspace is about to be deleted for good (its row still readable, its related rows too).
workspace_purging = Signal()
