"""The customer card's Sales tab (the customer's documents and their totals), the Sales page
(all documents) and its CSV import. Thin: reads are ``sales.selectors``, the import's checks
and writes ``sales.imports``, the waiting upload ``sales.import_files``."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.actors import Actor
from customers.views.card import VIEW, card_customer, card_render
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from .forms import DocumentSearchForm, SalesImportForm, SalesListForm
from .import_files import import_file_discard, import_file_load, import_file_store
from .imports import OPTIONAL, REQUIRED, sales_import, sales_import_preview
from .selectors import documents_all, documents_of, sales_totals

PAGE_SIZE = 25


@VIEW
@require_http_methods(["GET"])
def customer_sales(request, pk):
    customer = card_customer(pk)
    form = DocumentSearchForm(request.GET)
    documents = form.filter(documents_of(customer))
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    return card_render(
        request,
        customer,
        tab="sales",
        tab_template="sales/card_sales.html",
        form=form,
        page=page,
        totals=sales_totals(customer),
    )


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_http_methods(["GET"])
def sales_list(request):
    """All the tenant's documents: search, filter by kind and status, a page at a time."""
    form = SalesListForm(request.GET)
    documents = form.filter(documents_all())
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sales/list.html", {"form": form, "page": page})


# Importing writes documents, and their open balances are the customer's balance, which
# blocks or allows anonymization: that is the bookkeeper's business (FINANCE_EDIT), not
# registry editing (office staff, who do not even see the finance fields on the card).
IMPORT = tenant_perm_required(Perm.FINANCE_EDIT)


@IMPORT
@require_http_methods(["GET"])
def sales_import_template(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sales-documents.csv"'
    response.write("\ufeff")  # so that Excel reads it as UTF-8
    csv.writer(response).writerow([*REQUIRED, *OPTIONAL])
    return response


@IMPORT
@require_http_methods(["GET", "POST"])
def sales_import_upload(request):
    form = SalesImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"]
        preview = sales_import_preview(data)
        if preview.errors:  # the file as a whole is unreadable: say so here
            for message in preview.errors:
                form.add_error("file", message)
        else:
            token = import_file_store(
                session=request.session, tenant_id=request.tenant.pk, data=data
            )
            return redirect("sales-import-preview", token=token)
    return render(request, "sales/import.html", {"form": form})


@IMPORT
@require_http_methods(["GET", "POST"])
def sales_import_confirm(request, token):
    """GET: the preview of every row, nothing saved. POST: save all rows, or none."""
    data = import_file_load(session=request.session, tenant_id=request.tenant.pk, token=token)
    if data is None:
        raise Http404
    if request.method == "POST":
        preview, created, updated = sales_import(data=data, actor=Actor.from_request(request))
        if preview.ok:
            import_file_discard(session=request.session)
            messages.success(
                request,
                _("Imported: %(created)d new documents, %(updated)d updated.")
                % {"created": created, "updated": updated},
            )
            return redirect("sales-list")
        messages.error(request, _("Nothing was imported: correct the rows with errors."))
    else:
        preview = sales_import_preview(data)
    rows = preview.rows
    summary = {
        "new": sum(1 for row in rows if row.ok and not row.updates),
        "updates": sum(1 for row in rows if row.ok and row.updates),
        "errors": len(preview.error_rows),
    }
    lines = [(row, [row.values.get(name, "") for name in REQUIRED]) for row in rows]
    context = {
        "preview": preview,
        "summary": summary,
        "lines": lines,
        "token": token,
        "columns": REQUIRED,
    }
    return render(request, "sales/import_preview.html", context)
