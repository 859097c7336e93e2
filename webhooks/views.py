"""Settings → Webhooks: endpoints, their secrets (shown once), the delivery log, replays."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.actors import Actor
from tenancy.decorators import outside_transaction, tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import selectors, services
from .forms import EndpointForm
from .models import WebhookDelivery, WebhookEndpoint

# Webhooks carry what an API key could read: the same people manage both.
MANAGE = tenant_perm_required(Perm.API_KEYS_MANAGE)


@outside_transaction  # saving resolves the endpoint's host name
@MANAGE
def endpoint_list(request):
    form = EndpointForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _endpoint, new_secret = services.endpoint_create(
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            form = EndpointForm()
    return render(
        request,
        "webhooks/endpoints.html",
        {"endpoints": selectors.endpoint_list(), "form": form, "new_secret": new_secret},
    )


@outside_transaction  # saving resolves the endpoint's host name
@MANAGE
def endpoint_detail(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("webhook-detail", pk=endpoint.pk)
    return _detail(request, endpoint, form)


def _detail(request, endpoint, form=None, new_secret=None):
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "form": form
            or EndpointForm(
                initial={
                    "url": endpoint.url,
                    "description": endpoint.description,
                    "event_types": endpoint.event_types,
                }
            ),
            "deliveries": selectors.delivery_log(endpoint=endpoint),
            "new_secret": new_secret,
        },
    )


@MANAGE
@require_POST
def endpoint_toggle(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    active = not endpoint.is_active
    services.endpoint_set_active(
        endpoint=endpoint,
        active=active,
        actor=Actor.user(request.user),
        reason=_("Switched off by %(user)s.") % {"user": request.user.get_username()},
    )
    messages.success(request, _("The endpoint is on.") if active else _("The endpoint is off."))
    return redirect("webhook-detail", pk=endpoint.pk)


@MANAGE
@require_POST
def endpoint_rotate(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    secret = services.endpoint_rotate_secret(endpoint=endpoint, actor=Actor.user(request.user))
    return _detail(request, endpoint, new_secret=secret)


@MANAGE
@require_POST
def endpoint_delete(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_delete(endpoint=endpoint, actor=Actor.user(request.user))
    messages.success(request, _("The endpoint is deleted."))
    return redirect("webhooks")


@MANAGE
@require_POST
def delivery_replay(request, pk, delivery_pk):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
    try:
        services.delivery_replay(delivery=delivery, actor=Actor.user(request.user))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The event is sent again."))
    return redirect("webhook-detail", pk=pk)
