"""Settings → SMS: an administrator switches SMS on or off, with sender and monthly cap."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from .selectors import notification_settings, sms_sent_this_month
from .services import sms_settings_update


class SmsSettingsForm(forms.Form):
    sms_enabled = forms.BooleanField(label=gettext_lazy("Send SMS"), required=False)
    sms_sender = forms.CharField(
        label=gettext_lazy("Sender name or number"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "A name of up to 11 letters, digits and spaces (e.g. Nordljus), or a number in "
            "international form (e.g. +46701234567). Customers cannot reply to a name, only "
            "to a number; they can always answer through the link. Empty: the service's "
            "shared number."
        ),
    )
    sms_monthly_cap = forms.IntegerField(
        label=gettext_lazy("Most SMS per month"),
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text=gettext_lazy(
            "Needed to switch SMS on. When the month's limit is reached, no more SMS are "
            "sent until the next month; email goes on."
        ),
    )


@tenant_perm_required(Perm.SETTINGS_EDIT)
def sms_settings(request):
    current = notification_settings()
    initial = {
        "sms_enabled": current.sms_enabled,
        "sms_sender": current.sms_sender,
        "sms_monthly_cap": current.sms_monthly_cap,
    }
    form = SmsSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = sms_settings_update(
                enabled=data["sms_enabled"],
                sender=data["sms_sender"],
                monthly_cap=data["sms_monthly_cap"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, _("SMS is switched on.") if saved.sms_enabled else _("SMS is off.")
            )
            return redirect("sms-settings")
    return render(
        request,
        "notifications/sms_settings.html",
        {"form": form, "settings": current, "sent_this_month": sms_sent_this_month()},
    )
