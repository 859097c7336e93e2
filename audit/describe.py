"""Audit entries as sentences a person can read, in the active language (issue 14, item 10).

The log holds ids, counts and codes only. Names come from resolving those ids when the
entry is shown, never from the log: a user id becomes the user's name, an API key prefix
the key's name, a customer id a link to the card (or "anonymized customer").

The audit log is floor: it knows no domain app. Each app says how its actions read in
its own ``audit_text.py`` (discovered like ``admin.py``): ``action(code, label, group,
sentence)`` and, for the objects its ids name, ``objects(kind, resolve)``. An action no
app describes still reads as a sentence (``_generic``), never as a raw dict.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, strip_tags
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy.models import ApiKey

from .models import ActorType, AuditEvent

# Groups of the action select, in this order.
GROUPS = {
    "customers": gettext_lazy("Customers"),
    "parts": gettext_lazy("Contacts, addresses and other parts"),
    "consent": gettext_lazy("Consent"),
    "anonymization": gettext_lazy("Anonymization and deletion"),
    "exports": gettext_lazy("Exports"),
    "sales": gettext_lazy("Sales"),
    "messages": gettext_lazy("Messages"),
    "settings": gettext_lazy("Settings, users and API keys"),
    "integrations": gettext_lazy("Webhooks"),
    "system": gettext_lazy("System"),
}


@dataclass(frozen=True)
class Action:
    code: str
    label: object  # lazy text
    group: str
    sentence: Callable[[Described], str]


# kind -> (ids -> {id: (label, url or "", label in files)}); one query for a page's ids.
# The label in files names no one (a customer's number, not its name).
Resolver = Callable[[set[str]], dict[str, tuple[str, str, str]]]

_ACTIONS: dict[str, Action] = {}
_RESOLVERS: dict[str, Resolver] = {}
_LOOKUPS: dict[str, Callable[[str], int | None]] = {}
_discovered = False


def action(code: str, label, group: str, sentence: Callable[[Described], str]) -> None:
    _ACTIONS[code] = Action(code, label, group, sentence)


def objects(kind: str, resolve: Resolver) -> None:
    _RESOLVERS[kind] = resolve


def lookup(kind: str, find: Callable[[str], int | None]) -> None:
    """How a person's reference to an object (a customer's number) becomes its id."""
    _LOOKUPS[kind] = find


def find_object(kind: str, reference: str) -> int | None:
    _discover()
    find = _LOOKUPS.get(kind)
    return find(reference) if find else None


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("audit_text")
        _discovered = True


def known_actions() -> dict[str, Action]:
    _discover()
    return _ACTIONS


def action_label(code: str) -> str:
    found = known_actions().get(code)
    return str(found.label) if found else capfirst(code.replace(".", ": ").replace("_", " "))


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action select's options: grouped, each group led by "all of it" (a prefix)."""
    by_group: dict[str, list[Action]] = defaultdict(list)
    for found in known_actions().values():
        by_group[found.group].append(found)
    choices = []
    for group, title in GROUPS.items():
        members = sorted(by_group.get(group, []), key=lambda a: str(a.label))
        if members:
            choices.append((str(title), [(a.code, str(a.label)) for a in members]))
    return choices


# --- Names, resolved once per page ------------------------------------------------------


def _user_names(ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if str(i).isdigit()]
    users = get_user_model().objects.filter(pk__in=numeric)
    return {str(u.pk): u.get_full_name() or u.get_username() for u in users}


def _key_names(prefixes: set[str]) -> dict[str, str]:
    return dict(ApiKey.objects.filter(prefix__in=prefixes).values_list("prefix", "name"))


class Names:
    """Display names of the users, keys and objects a page of entries names."""

    def __init__(self, events: Iterable[AuditEvent], refs: Callable[[AuditEvent], dict]):
        self.users: set[str] = set()
        self.keys: set[str] = set()
        self.wanted: dict[str, set[str]] = defaultdict(set)
        for event in events:
            if event.actor_type == ActorType.USER and event.actor_id:
                self.users.add(event.actor_id)
            elif event.actor_type == ActorType.API_KEY and event.actor_id:
                self.keys.add(event.actor_id)
            if event.object_type == "api_key" and event.object_id:
                self.keys.add(event.object_id)
            for kind, ids in refs(event).items():
                if kind == "user":
                    self.users.update(str(i) for i in ids)
                else:
                    self.wanted[kind].update(str(i) for i in ids)
        self._users: dict[str, str] | None = None
        self._keys: dict[str, str] | None = None
        self._objects: dict[str, dict[str, tuple[str, str, str]]] = {}

    def user(self, user_id) -> str:
        if self._users is None:
            self._users = _user_names(self.users) if self.users else {}
        return self._users.get(str(user_id)) or _("a former user")

    def key_name(self, prefix) -> str | None:
        if self._keys is None:
            self._keys = _key_names(self.keys) if self.keys else {}
        return self._keys.get(str(prefix))

    def key(self, prefix) -> str:
        name = self.key_name(prefix)
        return _("API key “%(name)s”") % {"name": name} if name else _("an API key")

    def object(self, kind: str, object_id) -> tuple[str, str, str] | None:
        if kind not in self._objects:
            resolve = _RESOLVERS.get(kind)
            ids = self.wanted.get(kind, set())
            self._objects[kind] = resolve(ids) if resolve and ids else {}
        return self._objects[kind].get(str(object_id))


def _refs(event: AuditEvent) -> dict[str, list]:
    """The ids an entry names, by kind, so one page resolves them in one query each."""
    data = event.data if isinstance(event.data, dict) else {}
    refs: dict[str, list] = defaultdict(list)
    if event.object_type in ("customer", "contact") and event.object_id:
        refs[event.object_type].append(event.object_id)
    for key, kind in (("customer", "customer"), ("customer_id", "customer")):
        if isinstance(data.get(key), int):
            refs[kind].append(data[key])
    if isinstance(data.get("contact"), int):
        refs["contact"].append(data["contact"])
    if isinstance(data.get("user"), int):
        refs["user"].append(data["user"])
    return refs


# --- One entry ---------------------------------------------------------------------------


class Described:
    """One event as its sentence is built: the data, and its ids as names and links.

    ``html`` True: the sentence is HTML (links to the objects); False: plain text for
    files, where a customer is its number only (the log's exports stay free of names).
    """

    def __init__(self, event: AuditEvent, names: Names, *, html: bool = True):
        self.event = event
        self.names = names
        self.html = html
        self.data = event.data if isinstance(event.data, dict) else {}

    # Building sentences ---------------------------------------------------------------

    def say(self, template: str, **values) -> str:
        """``template`` (already translated) with ``{name}`` placeholders filled."""
        values.setdefault("actor", self.actor)
        if self.html:
            return format_html(template, **values)
        return template.format(**{k: strip_tags(str(v)) for k, v in values.items()})

    # Pieces ---------------------------------------------------------------------------

    @property
    def actor(self) -> str:
        return actor_name(self.event, self.names)

    def customer(self, customer_id=None) -> str:
        """The customer the entry is about, linked to its card."""
        if customer_id is None:
            customer_id = self.customer_id
        return self.thing("customer", customer_id, _("customer %(id)s (deleted)"))

    @property
    def customer_id(self):
        if self.event.object_type == "customer" and self.event.object_id:
            return self.event.object_id
        return self.data.get("customer", self.data.get("customer_id"))

    def contact(self, contact_id=None) -> str:
        if contact_id is None:
            contact_id = self.data.get("contact", self.event.object_id)
        return self.thing("contact", contact_id, _("contact %(id)s"))

    def thing(self, kind: str, object_id, missing: str) -> str:
        if object_id in (None, ""):
            return _("an unknown object")
        found = self.names.object(kind, object_id)
        if found is None:
            return missing % {"id": object_id}
        label, url, plain = found
        if not self.html:
            return plain
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    def user(self, user_id) -> str:
        return self.names.user(user_id)

    def key(self, prefix) -> str:
        """An API key's name (its prefix once the key is gone)."""
        return self.names.key_name(prefix) or str(prefix)

    def number(self, value) -> str:
        if isinstance(value, list | tuple | dict):
            value = len(value)
        if not isinstance(value, int | float):
            return str(value if value not in (None, "") else "—")
        return formats.number_format(value, force_grouping=True)

    def count(self, value) -> int:
        if isinstance(value, list | tuple | dict):
            return len(value)
        return value if isinstance(value, int) else 0

    def date(self, value) -> str:
        return format_moment(value)

    def choice(self, choices, value) -> str:
        """A code by its choice label (a TextChoices class or a list of pairs)."""
        pairs = getattr(choices, "choices", choices)
        return str(dict(pairs).get(value, value if value not in (None, "") else "—"))

    def fields(self, model, names=None) -> str:
        """Field names as their labels, joined."""
        names = self.data.get("fields", []) if names is None else names
        if not isinstance(names, list):
            names = [names]
        return ", ".join(field_label(model, str(n)) for n in names) or "—"

    def yes_no(self, value) -> str:
        return _("yes") if value else _("no")


def field_label(model, name: str) -> str:
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a pseudo-field, or a field that has since gone
            return name.replace("_", " ")
    return name.replace("_", " ")


def format_moment(value) -> str:
    """A date or time in the active locale (ISO-like in the Nordic ones), minutes at most."""
    if isinstance(value, str):
        parsed = parse_datetime(value) or parse_date(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return "—" if value in (None, "") else str(value)


def actor_name(event: AuditEvent, names: Names) -> str:
    if event.actor_type == ActorType.USER:
        return names.user(event.actor_id)
    if event.actor_type == ActorType.API_KEY:
        return names.key(event.actor_id)
    if event.actor_type == ActorType.CUSTOMER:
        return _("The customer")
    return _("The system")


def _generic(d: Described) -> str:
    """An action nobody described yet: what it is, on what, by whom (never the raw data)."""
    event = d.event
    what = action_label(event.action)
    if event.object_type == "customer" or d.customer_id not in (None, ""):
        return d.say(_("{actor}: {what}, {customer}."), what=what, customer=d.customer())
    if event.object_type:
        obj = event.object_type.replace("_", " ").replace(".", " ")
        if event.object_id:
            obj = f"{obj} {event.object_id}"
        return d.say(_("{actor}: {what} ({object})."), what=what, object=obj)
    return d.say(_("{actor}: {what}."), what=what)


# --- Pages of entries -----------------------------------------------------------------------


@dataclass
class Entry:
    event: AuditEvent
    when: str
    actor: str
    label: str
    sentence: str  # HTML (SafeString) or plain text

    @property
    def raw(self) -> str:
        """The stored entry, for auditors (the details toggle, the export's last column)."""
        return json.dumps(self.event.data, ensure_ascii=False, sort_keys=True, default=str)


def describe(events: Iterable[AuditEvent], *, as_html: bool = True) -> list[Entry]:
    """Each event as an Entry; the names of a page come in one query per kind."""
    events = list(events)
    _discover()
    names = Names(events, _refs)
    entries = []
    for event in events:
        d = Described(event, names, html=as_html)
        found = _ACTIONS.get(event.action)
        try:
            sentence = found.sentence(d) if found else _generic(d)
        except (KeyError, TypeError, ValueError, AttributeError):
            # An older entry with another data shape: still a sentence, never a 500.
            sentence = _generic(d)
        if not as_html:
            sentence = html.unescape(strip_tags(sentence))
        entries.append(
            Entry(
                event=event,
                when=format_moment(event.created_at),
                actor=actor_name(event, names),
                label=action_label(event.action),
                sentence=mark_safe(sentence) if as_html else sentence,  # noqa: S308 (format_html)
            )
        )
    return entries


def sentence_text(sentence: SafeString | str) -> str:
    return html.unescape(strip_tags(str(sentence)))
