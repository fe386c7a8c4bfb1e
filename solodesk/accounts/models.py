from __future__ import annotations

import hashlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models

from solodesk.core.l10n import DEFAULT_LOCALE, LOCALE_CHOICES
from solodesk.core.models import BaseModel
from solodesk.core.money import CURRENCY_CHOICES

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TimeRounding:
    """Choices shared by the workspace's and a project's rounding rule."""

    NONE = "none"
    UP = "up"
    NEAREST = "nearest"
    MODE_CHOICES = [(NONE, "No rounding"), (UP, "Round up"), (NEAREST, "Round to nearest")]
    MINUTE_CHOICES = [(1, "1 minute"), (6, "6 minutes"), (15, "15 minutes"), (30, "30 minutes")]
    # The steps `timetracking.UnbilledTime` keeps sums for (decision 0008): a CHECK on the
    # workspace's and the project's step keeps any other out, even written around the
    # services and forms, since no stored sum would match it.
    STEPS = tuple(minutes for minutes, _label in MINUTE_CHOICES)
    PER_ENTRY = "entry"
    PER_LINE = "line"
    SCOPE_CHOICES = [(PER_ENTRY, "Each entry"), (PER_LINE, "The line's total")]


class KnownRoundingStep(models.CheckConstraint):
    """CHECK the model's `time_rounding_minutes` is one of `TimeRounding.STEPS` (or NULL,
    where the field allows it: the workspace's step then applies). A model form validates
    it in Python, not with Django's default `SELECT 1 WHERE <condition>` per save: the
    field's choices already say the same thing, and the CHECK is there for writes that go
    around the forms."""

    def __init__(
        self, *, name: str, nullable: bool = False, condition: Any = None, **kwargs: Any
    ) -> None:
        self.nullable = nullable
        if condition is None:  # a migration passes the condition it was made with
            condition = models.Q(time_rounding_minutes__in=TimeRounding.STEPS)
            if nullable:
                condition = models.Q(time_rounding_minutes__isnull=True) | condition
        super().__init__(condition=condition, name=name, **kwargs)

    def deconstruct(self) -> Any:
        path, args, kwargs = super().deconstruct()
        if self.nullable:
            kwargs["nullable"] = True
        return path, args, kwargs

    def validate(self, model, instance, exclude=None, using=None):  # type: ignore[no-untyped-def]
        if exclude and "time_rounding_minutes" in exclude:
            return
        minutes = instance.time_rounding_minutes
        if (minutes is None and self.nullable) or minutes in TimeRounding.STEPS:
            return
        raise ValidationError(
            {"time_rounding_minutes": self.get_violation_error_message()},
            code=self.violation_error_code,
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in with an e-mail address; there is no username."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.email


class Workspace(BaseModel):
    """The tenant: a freelancer's business. Every record belongs to exactly one."""

    name = models.CharField("business name", max_length=200)
    address = models.TextField(blank=True)
    tax_id = models.CharField("tax id", max_length=50, blank=True)
    default_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    # How dates and amounts are written on the documents clients get (PDF, portal, e-mail).
    locale = models.CharField(
        max_length=10,
        choices=LOCALE_CHOICES,
        default=DEFAULT_LOCALE,
        help_text="How dates and amounts are written on invoices, in e-mails and in the portal.",
    )
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    payment_details = models.TextField(
        blank=True, help_text="Bank account (IBAN/BIC) or other payment instructions."
    )
    invoice_number_format = models.CharField(
        max_length=60,
        default="{year}-{seq:04d}",
        help_text="Placeholders: {year}, {seq} (e.g. {seq:04d} for 0007).",
    )
    credit_note_number_format = models.CharField(max_length=60, default="CN-{year}-{seq:04d}")
    # How tracked time becomes billed hours (the raw entries are never changed).
    time_rounding_mode = models.CharField(
        max_length=10, choices=TimeRounding.MODE_CHOICES, default=TimeRounding.NONE
    )
    time_rounding_minutes = models.PositiveSmallIntegerField(
        choices=TimeRounding.MINUTE_CHOICES, default=1
    )
    time_rounding_scope = models.CharField(
        max_length=10, choices=TimeRounding.SCOPE_CHOICES, default=TimeRounding.PER_ENTRY
    )

    class Meta:
        constraints = [
            KnownRoundingStep(name="workspace_rounding_step_known"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(BaseModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class ApiToken(BaseModel):
    """A bearer token for the API. Only its SHA-256 digest is stored: the token itself is
    shown once, at creation."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def token_digest(raw_token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 cannot be brute-forced and is
    # cheap enough to compute on every request (unlike a password hash).
    return hashlib.sha256(raw_token.encode()).hexdigest()
