"""Who did something, as the audit log records it: a type and an opaque id."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ActorType


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""

    @classmethod
    def user(cls, user) -> Actor:
        return cls(ActorType.USER, str(user.pk))

    @classmethod
    def api_key(cls, key) -> Actor:
        return cls(ActorType.API_KEY, key.prefix)

    @classmethod
    def system(cls, component: str = "") -> Actor:
        return cls(ActorType.SYSTEM, component)

    @classmethod
    def customer(cls, customer_id) -> Actor:
        return cls(ActorType.CUSTOMER, str(customer_id))

    def signed_in_user(self):
        """The user account behind a user actor (for ``created_by`` fields), else None."""
        if self.type != ActorType.USER or not self.id:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.id).first()

    @classmethod
    def from_request(cls, request) -> Actor:
        """The API key when the call came with one, else the signed-in user."""
        key = getattr(request, "api_key", None) or getattr(
            getattr(request, "_request", None), "api_key", None
        )
        if key is not None:
            return cls.api_key(key)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls.user(user)
        return cls.system("anonymous")
