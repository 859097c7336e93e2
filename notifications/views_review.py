"""Messages that wait for a person: a send was cut off and the provider cannot tell."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import late
from .models import OutboundMessage
from .selectors import messages_uncertain
from .services import UNCERTAIN_DECISIONS, message_decide

PAGE_SIZE = 25
DONE = {
    "resend": gettext_lazy("The message is queued to be sent again."),
    "sent": gettext_lazy("The message is recorded as sent."),
    "failed": gettext_lazy("The message is recorded as failed."),
}


@tenant_perm_required(Perm.CONSENT_REQUEST)
def uncertain_list(request):
    page = Paginator(messages_uncertain(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(m, late.redact(m.body, _("[consent link]"))) for m in page]
    return render(request, "notifications/uncertain.html", {"page": page, "rows": rows})


@tenant_perm_required(Perm.CONSENT_REQUEST)
@require_POST
def uncertain_decide(request, pk: int):
    get_object_or_404(OutboundMessage, pk=pk)  # another tenant's message: not found
    decision = request.POST.get("decision", "")
    if decision not in UNCERTAIN_DECISIONS:
        messages.error(request, _("Choose send again, sent or failed."))
        return redirect("notifications-uncertain")
    try:
        message_decide(message_id=pk, decision=decision, actor=Actor.user(request.user))
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, DONE[decision])
    return redirect("notifications-uncertain")
