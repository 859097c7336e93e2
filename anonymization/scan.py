"""The free-text scan: find and redact the erased people in other records' free text.

A note, an activity or a message of someone else may still name an erased person. The
scan reads each free-text field of the tenant once, in the database, and finds the rows
that *may* name one of the batch's people by their words, not by regular expressions:

- the text is lower-cased and split into words (``[^[:alnum:]_]+``); a name or email
  needle is a candidate where a word equals its first word and the next word starts with
  its second (the needles' patterns match only where a word starts, so this misses none);
- digit runs (digits with at most one ``-. ()/`` between them, as a phone is written)
  are stripped to their digits; a phone needle is a candidate where its national number
  is part of one.

Both are hash joins against the batch's needles (``ErasureNeedle``), so the cost grows
with the text once, not with texts times needles. Python then checks each candidate row
with the real patterns of the needles that found it and redacts what they match. A row
it may not change (an append-only table) is reported as residue.

An anonymization run scans once after its last chunk (``anonymization.runs``); a single
erasure scans in its own transaction (``anonymization.engine``).
"""

from __future__ import annotations

import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, models
from django.db.models import Q

from config.bulk import array_param, update_rows

from .models_scan import ErasureNeedle
from .registry import WORD_KEY, ModelEntry, Needle, pii

REDACTED = "[…]"
WORDS = "[^[:alnum:]_]+"
DIGIT_RUN = "[0-9](?:[-. ()/]?[0-9])+"
# Candidate rows whose text Python reads at a time.
ROWS_PER_READ = 2_000


@dataclass(frozen=True)
class Residue:
    """Free text that still matched an erased person and could not be changed."""

    model: str  # app_label.Model
    field: str
    pk: int


@dataclass
class ScanResult:
    redacted: Counter = field(default_factory=Counter)  # rows redacted per model
    residue: list[Residue] = field(default_factory=list)


def new_batch() -> str:
    return f"one:{secrets.token_hex(8)}"


def run_batch(run_id: int) -> str:
    return f"run:{run_id}"


def store_needles(tenant, batch: str, needles: Iterable[Needle]) -> int:
    """Keep ``needles`` for the scan of ``batch``; the database words them itself, with
    the same lower() and word split it reads the texts with."""
    unique = sorted({(n.category, n.pattern, n.kind, n.literal) for n in needles if n.literal})
    if not unique:
        return 0
    table = ErasureNeedle._meta.db_table
    categories, patterns, kinds, literals = (
        array_param(list(column)) for column in zip(*unique, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (tenant_id, batch, category, pattern, kind, literal,
                                 first, second, key)
            SELECT %s, %s, category, pattern, kind, literal,
                   CASE WHEN kind = 'text' AND cardinality(words) >= 2 THEN words[1] ELSE '' END,
                   coalesce(second, ''), coalesce(left(second, %s), '')
            FROM (
                SELECT *, CASE WHEN kind = 'phone' THEN literal
                               WHEN cardinality(words) >= 2 THEN words[2]
                               ELSE words[1] END AS second
                FROM (
                    SELECT n.*, array_remove(regexp_split_to_array(lower(n.literal), %s), '')
                                AS words
                    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
                         AS n(category, pattern, kind, literal)
                ) worded
            ) keyed
            """,  # noqa: S608 - the table's name
            [tenant.pk, batch, WORD_KEY, WORDS, categories, patterns, kinds, literals],
        )
    return len(unique)


def forget_needles(tenant, batch: str) -> None:
    ErasureNeedle.objects.filter(tenant_id=tenant.pk, batch=batch).delete()


def scan(
    tenant,
    batch: str,
    *,
    exclude: Callable[[ModelEntry], Q | None],
) -> ScanResult:
    """Redact the batch's needles from the tenant's free text (call inside a transaction).

    ``exclude(entry)`` says which rows of a model are the erased people's own (scrubbed,
    or deselected and to be left alone): they are not searched.
    """
    result = ScanResult()
    if not ErasureNeedle.objects.filter(tenant_id=tenant.pk, batch=batch).exists():
        return result
    candidates = []  # (entry, queryset, fields, {row pk: needle ids})
    for entry in pii.entries():
        names = text_fields(entry)
        if not names:
            continue
        qs = entry.model._default_manager.filter(tenant_id=tenant.pk)
        skip = exclude(entry)
        if skip is not None:
            qs = qs.exclude(skip)
        found: dict[int, set[int]] = defaultdict(set)
        for name in names:
            for pk, needle_id in _candidates(qs, name, tenant.pk, batch):
                found[pk].add(needle_id)
        if found:
            candidates.append((entry, qs, names, found))
    if not candidates:
        return result
    wanted = {i for *_rest, found in candidates for ids in found.values() for i in ids}
    patterns = dict(ErasureNeedle.objects.filter(pk__in=wanted).values_list("pk", "pattern"))
    compiled: dict[frozenset, re.Pattern] = {}
    for entry, qs, names, found in candidates:
        _redact(entry, qs, names, found, patterns, compiled, result)
    return result


def text_fields(entry: ModelEntry) -> list[str]:
    model = entry.model
    if not any(f.name == "tenant" for f in model._meta.concrete_fields):
        return []
    return [
        name
        for name, rule in entry.fields.items()
        if rule.personal
        and rule.free_text
        and isinstance(model._meta.get_field(name), models.CharField | models.TextField)
    ]


def _candidates(qs, name: str, tenant_id: int, batch: str) -> list[tuple[int, int]]:
    """(row, needle) pairs where the row's ``name`` may name the needle's person."""
    base, params = qs.exclude(**{name: ""}).values_list("pk", name).query.sql_with_params()
    needles = ErasureNeedle._meta.db_table
    sql = f"""
        WITH texts(pk, txt) AS ({base}),
        words AS (
            SELECT t.pk, a.w[i] AS word, a.w[i + 1] AS next
            FROM texts t,
                 LATERAL (SELECT array_remove(regexp_split_to_array(lower(t.txt), %s), '') AS w) a,
                 generate_subscripts(a.w, 1) AS i
        ),
        needles AS (
            SELECT id, kind, first, second, key FROM {needles}
            WHERE tenant_id = %s AND batch = %s
        ),
        digits AS (
            SELECT t.pk, regexp_replace(m[1], '[^0-9]', '', 'g') AS d
            FROM texts t, regexp_matches(t.txt, %s, 'g') AS m
            WHERE t.txt ~ '[0-9]'
        ),
        lengths AS (SELECT DISTINCT length(key) AS len FROM needles WHERE kind = 'phone')
        SELECT w.pk, n.id FROM words w JOIN needles n
            ON n.kind = 'text' AND n.first = w.word AND n.key = left(w.next, %s)
        WHERE left(w.next, length(n.second)) = n.second
        UNION
        SELECT w.pk, n.id FROM words w JOIN needles n
            ON n.kind = 'text' AND n.first = '' AND n.key = left(w.word, %s)
        WHERE left(w.word, length(n.second)) = n.second
        UNION
        SELECT s.pk, n.id
        FROM (
            SELECT d.pk, substr(d.d, i, l.len) AS part
            FROM digits d JOIN lengths l ON length(d.d) >= l.len
                 CROSS JOIN LATERAL generate_series(1, length(d.d) - l.len + 1) AS i
        ) s JOIN needles n ON n.kind = 'phone' AND n.key = s.part
    """  # noqa: S608 - the ORM's SQL and a table's name
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, WORDS, tenant_id, batch, DIGIT_RUN, WORD_KEY, WORD_KEY])
        return cursor.fetchall()


def _redact(
    entry: ModelEntry,
    qs,
    names: list[str],
    found: dict[int, set[int]],
    patterns: dict[int, str],
    compiled: dict[frozenset, re.Pattern],
    result: ScanResult,
) -> None:
    model = entry.model
    fixed = getattr(model, "append_only", False) or (
        entry.reach is not None and entry.reach.bulk is not None
    )
    pks = sorted(found)
    for start in range(0, len(pks), ROWS_PER_READ):
        rows = list(qs.filter(pk__in=pks[start : start + ROWS_PER_READ]).only("pk", *names))
        changed = []  # (pk, text of each field)
        for row in rows:
            rx = _compiled(compiled, frozenset(patterns[i] for i in found[row.pk]))
            hits = [n for n in names if rx.search(getattr(row, n) or "")]
            for name in hits:
                if fixed:
                    result.residue.append(Residue(entry.label, name, row.pk))
                else:
                    setattr(row, name, rx.sub(REDACTED, getattr(row, name)))
            if hits and not fixed:
                changed.append((row.pk, *(getattr(row, n) for n in names)))
        if changed:
            update_rows(model, names, changed)
            result.redacted[entry.label] += len(changed)


def _compiled(cache: dict[frozenset, re.Pattern], patterns: frozenset[str]) -> re.Pattern:
    """One expression for the needles that found a row (rows often share them)."""
    rx = cache.get(patterns)
    if rx is None:
        rx = re.compile("|".join(f"(?:{p})" for p in sorted(patterns)), re.IGNORECASE)
        cache[patterns] = rx
    return rx
