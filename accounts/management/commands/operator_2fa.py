from django.core.management.base import BaseCommand, CommandError

from accounts.operator_otp import LINK_MAX_AGE, EnrolmentError, enrolment_start
from core.links import public_url


class Command(BaseCommand):
    help = "Print a one-time link (valid an hour) where an operator adds the admin to an authenticator app."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        try:
            token = enrolment_start(email=email)
        except EnrolmentError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Two-factor enrolment for {email} (valid {LINK_MAX_AGE // 60} minutes, once):")
        self.stdout.write(f"  {public_url(f'/operators/2fa/{token}/')}")
