"""Files and links on a customer (seed 001 "Filer & länkar").

Uploads are checked twice: the file name's extension must belong to an allowed
type AND the first bytes must look like that type, so an .exe renamed .pdf is
refused. Stored files get a random name under the tenant's and customer's
folder; they are served only through the download view, never from /media/.

Settings (read with defaults, see config/settings/base.py):
``ATTACHMENT_MAX_BYTES`` (10 MB) and ``ATTACHMENT_ALLOWED_TYPES`` (MIME types
out of :data:`KNOWN_TYPES`).
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant

from ..models import Attachment, Customer
from .guards import require_editable, signed_in
from .history import changes_record

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
NAME_MAX = 200
URL_MAX = 200  # Attachment.url is a URLField of Django's default length
SNIFF_BYTES = 4096


def _is_pdf(head: bytes, _file) -> bool:
    return head.startswith(b"%PDF-")


def _is_png(head: bytes, _file) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(head: bytes, _file) -> bool:
    return head.startswith(b"\xff\xd8\xff")


# Bytes that never occur in text files: NUL and the C0 controls other than
# tab, line feed, form feed, carriage return and escape.
_BINARY = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B})


def _is_text(head: bytes, _file) -> bool:
    if head.startswith((b"MZ", b"\x7fELF", b"PK\x03\x04", b"%PDF")):
        return False
    return not any(byte in _BINARY for byte in head)


def _office_zip(marker: str) -> Callable[[bytes, object], bool]:
    """An Office Open XML file: a ZIP holding [Content_Types].xml and the part ``marker``."""

    def check(head: bytes, file) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:  # reads the directory only, inflates nothing
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and marker in names

    return check


@dataclass(frozen=True)
class FileType:
    mime: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes, object], bool]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KNOWN_TYPES: dict[str, FileType] = {
    t.mime: t
    for t in (
        FileType("application/pdf", (".pdf",), _is_pdf),
        FileType("image/png", (".png",), _is_png),
        FileType("image/jpeg", (".jpg", ".jpeg"), _is_jpeg),
        FileType("text/plain", (".txt",), _is_text),
        FileType("text/csv", (".csv",), _is_text),
        FileType(XLSX, (".xlsx",), _office_zip("xl/workbook.xml")),
        FileType(DOCX, (".docx",), _office_zip("word/document.xml")),
    )
}
DEFAULT_ALLOWED_TYPES = tuple(KNOWN_TYPES)


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_types() -> list[FileType]:
    """The allowed types we can recognise; unknown MIME types in the setting are ignored."""
    configured = getattr(settings, "ATTACHMENT_ALLOWED_TYPES", DEFAULT_ALLOWED_TYPES)
    return [KNOWN_TYPES[mime] for mime in configured if mime in KNOWN_TYPES]


def allowed_extensions() -> list[str]:
    return [ext for t in allowed_types() for ext in t.extensions]


def _require_editable(customer: Customer) -> None:
    require_editable(customer)


def _clean_name(name: str, fallback: str) -> str:
    name = " ".join((name or "").split()) or fallback
    return name[:NAME_MAX]


def _detect(uploaded_file) -> tuple[FileType, str]:
    """The file's type and extension, or a field-level error."""
    original = os.path.basename(str(getattr(uploaded_file, "name", "") or ""))
    ext = os.path.splitext(original)[1].lower()
    candidates = [t for t in allowed_types() if ext in t.extensions]
    if not candidates:
        raise ValidationError(
            {
                "file": _("Files of this type cannot be added. Allowed: %(types)s.")
                % {"types": ", ".join(allowed_extensions())}
            }
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    for file_type in candidates:
        if file_type.sniff(head, uploaded_file):
            return file_type, ext
    raise ValidationError(
        {"file": _("The file's content does not match its name (%(ext)s).") % {"ext": ext}}
    )


@transaction.atomic
def attachment_add_file(
    *, customer: Customer, uploaded_file, actor: Actor, user=None, name: str = ""
) -> Attachment:
    _require_editable(customer)
    if uploaded_file is None:
        raise ValidationError({"file": _("Choose a file.")})
    size = int(getattr(uploaded_file, "size", 0) or 0)
    if size <= 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > max_bytes():
        raise ValidationError(
            {
                "file": _("The file is too large (%(size)s); the limit is %(max)s.")
                % {"size": filesizeformat(size), "max": filesizeformat(max_bytes())}
            }
        )
    file_type, ext = _detect(uploaded_file)
    original = os.path.basename(str(uploaded_file.name))
    attachment = Attachment(
        # upload_to builds the path from these ids, so they must be set before the file is saved.
        tenant=require_tenant(),
        customer=customer,
        name=_clean_name(name, original),
        size=size,
        content_type=file_type.mime,
    )
    attachment.created_by = attachment.updated_by = signed_in(user)
    # A random stored name: the user's file name stays in ``name`` and never reaches the disk.
    attachment.file.save(f"{uuid.uuid4().hex}{ext}", uploaded_file, save=False)
    try:
        attachment.save()
        changes_record(
            customer=customer, obj=attachment, before={}, after={"file": attachment.name}, user=user
        )
        audit_record(
            action="attachment.file_added",
            actor=actor,
            object_type="attachment",
            object_id=attachment.pk,
            data={"customer": customer.pk, "content_type": file_type.mime, "size": size},
        )
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def clean_link_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": _("Give the link's address.")})
    if len(url) > URL_MAX:
        raise ValidationError({"url": _("At most %(max)d characters.") % {"max": URL_MAX}})
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ValidationError({"url": _("Only http:// and https:// links can be added.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError({"url": _("Enter a valid web address.")}) from exc
    return url


@transaction.atomic
def attachment_add_link(
    *, customer: Customer, url: str, name: str, actor: Actor, user=None
) -> Attachment:
    _require_editable(customer)
    url = clean_link_url(url)
    attachment = Attachment(customer=customer, url=url, name=_clean_name(name, url))
    attachment.created_by = attachment.updated_by = signed_in(user)
    attachment.full_clean(exclude=["tenant", "customer", "file"])
    attachment.save()
    changes_record(
        customer=customer, obj=attachment, before={}, after={"link": attachment.url}, user=user
    )
    audit_record(
        action="attachment.link_added",
        actor=actor,
        object_type="attachment",
        object_id=attachment.pk,
        data={"customer": customer.pk},
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor: Actor, user=None) -> None:
    """Delete a file or link; the stored file goes once the deletion is committed."""
    customer, pk = attachment.customer, attachment.pk
    field = "file" if attachment.file else "link"
    text = attachment.name if attachment.file else attachment.url
    storage, path = attachment.file.storage, attachment.file.name
    attachment.delete()
    if path:
        # After commit: a rolled-back deletion must not lose the file.
        transaction.on_commit(lambda: storage.delete(path))
    changes_record(
        customer=customer, obj=customer, before={field: text}, after={field: ""}, user=user
    )
    audit_record(
        action="attachment.deleted",
        actor=actor,
        object_type="attachment",
        object_id=pk,
        data={"customer": customer.pk, "kind": field},
    )
