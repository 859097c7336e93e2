"""SMS replies that decided nothing, for staff to assign or dismiss (/consent/replies/).

Which replies land here, and why, is consent/replies.py's module docstring.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import replies
from .models import Decision, ReplyStatus, UnmatchedReply

PAGE_SIZE = 50


class ReplyAssignForm(forms.Form):
    request = forms.TypedChoiceField(
        label=gettext_lazy("The request it answers"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose the request the customer answered."),
            "invalid_choice": gettext_lazy("Choose one of the open requests sent to this number."),
        },
    )
    decision = forms.ChoiceField(
        label=gettext_lazy("The customer's answer"),
        choices=[
            (Decision.GRANTED, gettext_lazy("Yes: consent given")),
            (Decision.DECLINED, gettext_lazy("No: consent declined")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose yes or no.")},
    )

    def __init__(self, *args, reply: UnmatchedReply, candidates, **kwargs):
        kwargs.setdefault("prefix", f"reply-{reply.pk}")
        initial = kwargs.setdefault("initial", {})
        if reply.decision in (Decision.GRANTED, Decision.DECLINED):
            initial.setdefault("decision", reply.decision)
        if len(candidates) == 1:
            initial.setdefault("request", candidates[0].pk)
        super().__init__(*args, **kwargs)
        self.fields["request"].choices = [
            (request.pk, _candidate_label(request)) for request in candidates
        ]


def _candidate_label(request) -> str:
    sent = formats.date_format(timezone.localtime(request.created_at), "SHORT_DATE_FORMAT")
    return _("%(customer)s (%(number)s), asked %(date)s, code %(code)s") % {
        "customer": request.customer.name,
        "number": request.customer.number,
        "date": sent,
        "code": request.sms_reply_code or "-",
    }


def _rows(page, bound: ReplyAssignForm | None = None):
    rows = []
    for reply in page:
        candidates = replies.reply_candidates(reply)
        if bound is not None and bound.prefix == f"reply-{reply.pk}":
            form = bound
        else:
            form = ReplyAssignForm(reply=reply, candidates=candidates)
        rows.append((reply, candidates, form))
    return rows


def _list(request, *, bound: ReplyAssignForm | None = None, status: int = 200):
    page = Paginator(replies.unmatched_replies(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "consent/replies.html",
        {"page": page, "rows": _rows(page, bound)},
        status=status,
    )


@tenant_perm_required(Perm.CONSENT_REQUEST)
def reply_list(request):
    return _list(request)


@tenant_perm_required(Perm.CONSENT_REQUEST)
@require_POST
def reply_assign(request, pk: int):
    reply = get_object_or_404(UnmatchedReply, pk=pk)
    if reply.status != ReplyStatus.OPEN:  # another tab, another colleague
        messages.info(request, _("Someone has already handled this reply."))
        return redirect("consent-replies")
    candidates = replies.reply_candidates(reply)
    form = ReplyAssignForm(request.POST, reply=reply, candidates=candidates)
    if form.is_valid():
        try:
            replies.unmatched_reply_assign(
                reply=reply,
                request_id=form.cleaned_data["request"],
                decision=form.cleaned_data["decision"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            if "reply" not in getattr(exc, "error_dict", {}):
                apply_service_errors(form, exc)
                return _list(request, bound=form)
            messages.info(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The reply was recorded as the customer's answer."))
        return redirect("consent-replies")
    return _list(request, bound=form)


@tenant_perm_required(Perm.CONSENT_REQUEST)
@require_POST
def reply_dismiss(request, pk: int):
    reply = get_object_or_404(UnmatchedReply, pk=pk)
    try:
        replies.unmatched_reply_dismiss(reply=reply, actor=Actor.user(request.user))
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The reply was dismissed; nothing was recorded."))
    return redirect("consent-replies")
