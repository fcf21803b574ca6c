from django.db import models
from django.utils import timezone


def money(amount: int, currency: str) -> str:
    """The one way an amount is shown, in Python and in templates (the `money` filter): from the smallest
    currency unit, as Stripe counts, to text with the currency's code: 1900, "usd" -> "19.00 USD". A code
    rather than a symbol: "$" alone does not say which dollar."""
    return f"{amount / 100:,.2f} {currency.upper()}"


class PlanQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True).order_by("sort_order", "monthly_price")


class Plan(models.Model):
    """A plan on offer, mapped to its Stripe prices. Edited by operators in the admin."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=60)
    summary = models.CharField(max_length=200, blank=True)
    monthly_price = models.PositiveIntegerField(help_text="Whole currency units, e.g. 19 for $19.")
    yearly_price = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    member_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    stripe_price_monthly = models.CharField(max_length=100, blank=True, help_text="price_... for monthly billing")
    stripe_price_yearly = models.CharField(max_length=100, blank=True, help_text="price_... for yearly billing")
    is_public = models.BooleanField(default=True, help_text="Shown on the landing and Billing pages.")
    sort_order = models.PositiveIntegerField(default=0)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "monthly_price"]

    def __str__(self) -> str:
        return self.name

    @property
    def monthly_amount(self) -> int:
        """The monthly price in the smallest currency unit, as money() and Stripe count."""
        return self.monthly_price * 100

    @property
    def yearly_amount(self) -> int:
        return self.yearly_price * 100

    def price_id(self, interval: str) -> str:
        return self.stripe_price_yearly if interval == "year" else self.stripe_price_monthly

    @classmethod
    def for_price_id(cls, price_id: str) -> "Plan | None":
        if not price_id:
            return None
        return cls.objects.filter(
            models.Q(stripe_price_monthly=price_id) | models.Q(stripe_price_yearly=price_id)
        ).first()


class BillingEvent(models.Model):
    """Each Stripe event we received, once, with what it did (the processing result)."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    received_at = models.DateTimeField(default=timezone.now)
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL)
    result = models.CharField(max_length=255)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class Invoice(models.Model):
    """A workspace's invoice as Stripe last reported it (read back from Stripe on each of its events), with
    when a payment of it first failed: the grace clock runs from the oldest unpaid failure."""

    UNPAID_DONE = ("paid", "void")  # statuses after which an invoice no longer counts as unpaid

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="invoices")
    stripe_id = models.CharField(max_length=255, unique=True)
    subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)
    amount_due = models.PositiveIntegerField(help_text="Smallest currency unit (cents).")
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    created = models.DateTimeField()
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField(null=True, blank=True, help_text="When a payment of it first failed.")

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.number or self.stripe_id


class BillingAccount(models.Model):
    """A workspace's side of Stripe: its customer, and its current subscription as last read from Stripe."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="billing")
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    subscription_status = models.CharField(max_length=32, blank=True)
    interval = models.CharField(max_length=8, blank=True, help_text="month or year")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    payment_failed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="First failed payment of the oldest unpaid invoice of the subscription: the grace clock.",
    )
    comped = models.BooleanField(default=False, help_text="Given its plan by an operator: never blocked for payment.")

    def __str__(self) -> str:
        return self.stripe_customer_id or f"billing of {self.tenant_id}"
