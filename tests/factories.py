"""factory-boy factories. Tenant-owned factories need an active tenant (tenant_context)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from tenancy.models import ApiKey, Membership, ReferenceEntry, ReferenceRegister, Tenant
from tenancy.roles import Role


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Firma {n} AB")
    slug = factory.Sequence(lambda n: f"firma-{n}")
    country = "SE"
    languages = factory.LazyFunction(lambda: ["sv", "en"])
    time_zone = "Europe/Stockholm"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.STAFF


class ReferenceEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferenceEntry

    register = ReferenceRegister.PAYMENT_TERMS
    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"{n} days net")


class ApiKeyFactory:
    """Keys need the manager's create_key (it returns the one-time secret)."""

    @staticmethod
    def create(*, name: str = "POS", scopes: list[str] | None = None) -> tuple[ApiKey, str]:
        from tenancy.models import ApiKeyScope

        return ApiKey.objects.create_key(
            name=name, scopes=scopes if scopes is not None else list(ApiKeyScope.values)
        )


def make_customer(*, name: str = "Östergård Bygg AB", **fields):
    """A customer through the real service (number series, search text, audit)."""
    from audit.actors import Actor
    from customers.services.customers import customer_create

    return customer_create(actor=Actor.system("test"), name=name, **fields)


def consent_granted_by_link(customer, *, language: str, texts: tuple[str, ...] = ("Terms",)):
    """Publish consent terms in ``language`` (one version per text) and record that the
    customer granted the newest through the consent link, as the consent page does."""
    from audit.actors import Actor
    from consent.services import consent_record, consent_terms_publish

    for text in texts:
        consent_terms_publish(language=language, text=text, actor=Actor.system("t"))
    consent_record(
        customer=customer,
        decision="granted",
        method="link",
        actor=Actor.customer(customer.pk),
        terms_version=len(texts),
        language=language,
    )
