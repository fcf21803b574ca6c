"""The audit actions of `billing` (core/audit.py): payments and subscriptions, from Stripe and from operators."""

from django.db import models

from core.audit import actions_register


@actions_register
class BillingAction(models.TextChoices):
    BILLING_INVOICE_PAID = "billing.invoice_paid", "Invoice paid"
    BILLING_PAYMENT_FAILED = "billing.payment_failed", "Payment failed"
    BILLING_SUSPENDED_UNPAID = "billing.suspended_unpaid", "Suspended: unpaid"
    BILLING_SUBSCRIPTION_CANCELLED = "billing.subscription_cancelled", "Subscription cancelled"
    BILLING_SUBSCRIPTION_CHANGED = "billing.subscription_changed", "Subscription changed"
    BILLING_DUPLICATE_SUBSCRIPTION = "billing.duplicate_subscription", "Duplicate subscription"
    BILLING_RENEWAL_STOPPED = "billing.renewal_stopped", "Renewal stopped"
    BILLING_RENEWAL_RESUMED = "billing.renewal_resumed", "Renewal resumed"
    BILLING_COMPED = "billing.comped", "Made free of charge"
    BILLING_COMP_LIFTED = "billing.comp_lifted", "Free of charge lifted"
