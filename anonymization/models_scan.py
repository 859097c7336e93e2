"""What identifies the people an erasure is about, kept until the free-text scan ran.

An anonymization run erases its customers chunk by chunk, but the names, emails and
phone numbers they leave in *other* records' free text are searched for once, after the
last chunk (``anonymization.scan``): scanning the whole tenant once per chunk made a run
quadratic in the tenant's size. So each chunk, in its own transaction, writes what it
must search for here, and the scan deletes the rows in the transaction that redacts.
These rows are personal data for as long as they live (minutes): nothing else reads
them, and a run that is stopped deletes them (``anonymization_run_stop``).

A single erasure (the card, a deleted contact, a replay) writes them, scans and deletes
them in one transaction: nobody else ever sees them.
"""

from __future__ import annotations

from django.db import models

from tenancy.models import TenantOwnedModel


class ErasureNeedle(TenantOwnedModel):
    # "run:<id>" for a run, a random key for a single erasure.
    batch = models.CharField(max_length=40)
    category = models.CharField(max_length=30)
    # A regular expression (Python's ``re``), matched case-insensitively.
    pattern = models.TextField()
    # What the database looks for before Python checks the pattern (anonymization.scan):
    # "words": the first word and the start of the second word of a name or email;
    # "digits": the national number of a phone.
    kind = models.CharField(max_length=6)
    literal = models.TextField()
    # Filled by the database when stored, with its own lower() and word split, so that
    # the text it is compared with is read exactly the same way.
    first = models.TextField(blank=True, default="")
    second = models.TextField(blank=True, default="")
    key = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["tenant", "batch"], name="anonymization_needle_idx")]
