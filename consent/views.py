"""The admin's consent-terms page (/settings/consent/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.models import LANGUAGE_CHOICES
from tenancy.roles import Perm

from . import selectors, services
from .forms import ConsentSettingsForm, TermsForm
from .models import ConsentSettings

LANGUAGES = dict(LANGUAGE_CHOICES)


@tenant_perm_required(Perm.CONSENT_TERMS_EDIT)
def terms_edit(request):
    tenant = request.tenant
    language = request.POST.get("language") or request.GET.get("language")
    if language not in LANGUAGES:
        language = tenant.default_language
    current = selectors.terms_current(language=language)
    settings_row = ConsentSettings.objects.first() or ConsentSettings(tenant=tenant)
    terms_form = TermsForm(initial={"language": language, "text": current.text if current else ""})
    settings_form = ConsentSettingsForm(instance=settings_row, prefix="settings")
    actor = Actor.user(request.user)
    if request.method == "POST" and request.POST.get("form") == "settings":
        settings_form = ConsentSettingsForm(request.POST, instance=settings_row, prefix="settings")
        if settings_form.is_valid():
            try:
                services.consent_settings_update(actor=actor, **settings_form.settings_changes())
            except ValidationError as exc:
                apply_service_errors(settings_form, exc)
            else:
                messages.success(request, _("Consent settings saved."))
                return redirect(f"{request.path}?language={language}")
    elif request.method == "POST":
        terms_form = TermsForm(request.POST)
        if terms_form.is_valid():
            try:
                terms = services.consent_terms_publish(actor=actor, **terms_form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(terms_form, exc)
            else:
                if current is not None and terms.pk == current.pk:
                    messages.info(request, _("The text is unchanged; nothing was published."))
                else:
                    messages.success(
                        request, _("Version %(version)s published.") % {"version": terms.version}
                    )
                return redirect(f"{request.path}?language={terms.language}")
    history = selectors.terms_history()
    return render(
        request,
        "consent/terms_edit.html",
        {
            "language": language,
            "languages": LANGUAGE_CHOICES,
            "current": current,
            "form": terms_form,
            "settings_form": settings_form,
            "versions": history.get(language, []),
        },
    )
