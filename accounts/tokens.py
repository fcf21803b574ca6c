from django.contrib.auth.tokens import PasswordResetTokenGenerator

from core.db import connection


class WorkspacePasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token, also bound to the workspace's schema: a link from one workspace is
    useless on another, even for a user with the same id, email and password there."""

    key_salt = "accounts.tokens.WorkspacePasswordResetTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}:{super()._make_hash_value(user, timestamp)}"


password_reset_token = WorkspacePasswordResetTokenGenerator()
