"""Files and links on the customer: the list, uploading a file, adding a link, download, delete."""

from __future__ import annotations

import os

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from ..forms_parts import AttachmentFileForm, AttachmentLinkForm
from ..models import Attachment
from ..services import attachments
from .card import card_render
from .parts import base_context, customer_or_404
from .shortcuts import request_actor, save_and_redirect


def _render_files(request, customer, *, file_form=None, link_form=None):
    context = base_context(request, customer) | {
        "attachments": customer.attachments.select_related("created_by"),
        "file_form": file_form or AttachmentFileForm(auto_id="file_%s"),
        "link_form": link_form or AttachmentLinkForm(auto_id="link_%s"),
        "max_bytes": attachments.max_bytes(),
        "extensions": attachments.allowed_extensions(),
    }
    # A tab of the card (issue 14): the card's header and tab bar stay around it.
    del context["customer"]
    return card_render(
        request, customer, tab="files", tab_template="customers/parts/files.html", **context
    )


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_files(request, pk):
    return _render_files(request, customer_or_404(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def file_add(request, pk):
    customer = customer_or_404(pk)
    form = AttachmentFileForm(request.POST, request.FILES, auto_id="file_%s")
    if saved := save_and_redirect(
        request,
        form,
        lambda: attachments.attachment_add_file(
            customer=customer,
            uploaded_file=form.cleaned_data["file"],
            name=form.cleaned_data["name"],
            actor=request_actor(request),
            user=request.user,
        ),
        message=_("The file was added."),
        to="customer-files",
        pk=customer.pk,
    ):
        return saved
    return _render_files(request, customer, file_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def link_add(request, pk):
    customer = customer_or_404(pk)
    form = AttachmentLinkForm(request.POST, auto_id="link_%s")
    if saved := save_and_redirect(
        request,
        form,
        lambda: attachments.attachment_add_link(
            customer=customer,
            url=form.cleaned_data["url"],
            name=form.cleaned_data["name"],
            actor=request_actor(request),
            user=request.user,
        ),
        message=_("The link was added."),
        to="customer-files",
        pk=customer.pk,
    ):
        return saved
    return _render_files(request, customer, link_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def attachment_delete(request, pk, attachment_pk):
    customer = customer_or_404(pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, customer=customer)
    attachments.attachment_delete(
        attachment=attachment, actor=request_actor(request), user=request.user
    )
    messages.success(request, _("Deleted."))
    return redirect("customer-files", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def file_download(request, pk, attachment_pk):
    """Stream a stored file as a download (never inline, never sniffed as something else)."""
    customer = customer_or_404(pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, customer=customer)
    if not attachment.file:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:  # the row outlived its file
        raise Http404 from exc
    ext = os.path.splitext(attachment.file.name)[1].lower()
    filename = attachment.name if attachment.name.lower().endswith(ext) else attachment.name + ext
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
