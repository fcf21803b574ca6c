from django import forms
from django.contrib.auth import password_validation
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from tenants.models import Tenant
from tenants.subdomains import subdomain_normalize, subdomain_validate


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

    def clean(self):
        cleaned = super().clean()
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
