from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse
from django.utils.html import format_html

from accounts import services
from accounts.models import User
from tenants.models import Tenant
from tenants.selectors import current_workspace
from tenants.subdomains import subdomain_normalize, subdomain_validate


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That email and password do not match an account in this workspace.",
        "inactive": "That email and password do not match an account in this workspace.",
        "closed": "This workspace is closed. Only its owners can still log in, to export its data.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if current_workspace().is_closed and user.role != User.Role.OWNER:
            raise forms.ValidationError(self.error_messages["closed"], code="closed")


class WorkspacePasswordResetForm(PasswordResetForm):
    """Django's reset form; the worker finds the account and sends our email with a workspace-bound token."""

    def save(self, *args: Any, **kwargs: Any) -> None:  # the view's email options do not apply to ours
        services.password_reset_request(email=self.cleaned_data["email"])


class PasswordPairMixin(forms.Form):
    """Two password fields checked against each other and Django's validators, for the user that
    `password_user()` describes."""

    def password_user(self) -> User:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        elif first:
            try:
                password_validation.validate_password(first, self.password_user())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class InvitationForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(
        choices=[(User.Role.MEMBER, "Member"), (User.Role.ADMIN, "Admin")], initial=User.Role.MEMBER
    )


class AcceptInvitationForm(PasswordPairMixin, forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name")
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def password_user(self) -> User:
        return User(email=self.email, full_name=self.cleaned_data.get("full_name", ""))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices)


class ProfileForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    full_name = forms.CharField(max_length=150, label="Name")


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(label="New email")
    password = forms.CharField(label="Current password", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password

    def clean_new_email(self):
        email = self.cleaned_data["new_email"].lower()
        if email == self.user.email:
            raise forms.ValidationError("That is already your email address.")
        return email


# Signup (public host) and the workspace's settings and closing (its admins and owner)


class SignupForm(forms.Form):
    business_name = forms.CharField(max_length=100, label="Business name")
    subdomain = forms.CharField(
        max_length=63,
        label="Workspace address",
        help_text="Letters, digits and hyphens; 3 to 63 characters.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    full_name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(label="Work email")
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password.",
    )
    accept_terms = forms.BooleanField(
        required=True,
        error_messages={"required": "Please accept the Terms of Service and Privacy Policy to continue."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].label = format_html(
            'I accept the <a href="{}" target="_blank">Terms of Service</a> and the '
            '<a href="{}" target="_blank">Privacy Policy</a>',
            reverse("legal:terms"),
            reverse("legal:privacy"),
        )

    def clean_business_name(self) -> str:
        name = " ".join(self.cleaned_data["business_name"].split())
        if not name:
            raise forms.ValidationError("Please enter your business name.")
        return name

    def clean_subdomain(self) -> str:
        subdomain = subdomain_normalize(self.cleaned_data["subdomain"])
        subdomain_validate(subdomain)
        if Tenant.objects.filter(subdomain=subdomain).exists():
            raise forms.ValidationError("This address is already taken. Please choose another.", code="taken")
        return subdomain

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        password = cleaned.get("password")
        if password:
            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class WorkspaceSettingsForm(forms.Form):
    business_name = forms.CharField(max_length=100, label="Business name")
    billing_email = forms.EmailField(
        required=False, label="Billing contact email", help_text="Invoices and payment notices go here. Owners only."
    )

    def __init__(self, *args, can_edit_billing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_edit_billing:
            self.fields["billing_email"].disabled = True

    def clean_business_name(self) -> str:
        name = " ".join(self.cleaned_data["business_name"].split())
        if not name:
            raise forms.ValidationError("Please enter your business name.")
        return name


class CloseWorkspaceForm(forms.Form):
    confirm = forms.CharField(label="Type the workspace address to confirm")

    def __init__(self, *args, subdomain: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.subdomain = subdomain

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lower()
        if value != self.subdomain:
            raise forms.ValidationError(f"Type {self.subdomain} exactly to close this workspace.")
        return value
