"""Nothing a client sends is silently ignored (docs/api.md): what a view would drop is a 400.

``StrictRequestMixin`` goes on every API view (``customers.api.RegistryViewSet`` has it,
so every view built on it does). Before the action runs, an unknown query parameter is
a 400 naming it; a body field the view's input serializer would drop (unknown, read-only,
or one this caller may not set), at any depth of nested serializers, is a 400 naming
its dotted path; a body sent to an action that takes none is refused the same way.

The query parameters a view takes are the ones it documents: ``query_params[action]``
(the serializer the action validates them with, or a tuple of names), and on a list its
pagination's (``cursor``, ``page_size``) and filter backends' parameters.

``tests/config/test_strict_input.py`` sends an unknown parameter to every API route of
the URL conf, so a view that does not refuse it fails there.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers

# The messages, one per reason a field would have been dropped.


def _unknown_field() -> str:
    return _("Unknown field.")


def _read_only() -> str:
    return _("This field is read-only.")


def _not_allowed() -> str:
    return _("You may not set this field.")


def _class_field_names(serializer) -> set[str]:
    """Every field the serializer's class declares, before ``get_fields`` drops any for
    this caller (finance fields without the finance right, the retention override)."""
    names = set(getattr(serializer, "_declared_fields", {}))
    meta_fields = getattr(getattr(serializer, "Meta", None), "fields", ())
    if isinstance(meta_fields, list | tuple):
        names |= set(meta_fields)
    return names


def ignored_fields(serializer, data, *, output=None, prefix: str = "") -> dict[str, list[str]]:
    """The keys of ``data`` that ``serializer`` would silently drop, by dotted path.

    ``output`` is the serializer answers are rendered with: a key that is only there
    (``id``, ``created_at``) is read-only rather than unknown.
    """
    if not isinstance(data, Mapping):
        return {}
    fields = serializer.fields
    output_names = set(output.fields) | _class_field_names(output) if output is not None else set()
    refused: dict[str, list[str]] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        field = fields.get(key)
        if field is None:
            if key in _class_field_names(serializer):
                refused[name] = [_not_allowed()]
            elif key in output_names:
                refused[name] = [_read_only()]
            else:
                refused[name] = [_unknown_field()]
        elif field.read_only or isinstance(field, serializers.HiddenField):
            refused[name] = [_read_only()]
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            for index, item in enumerate(value):
                refused |= ignored_fields(field.child, item, prefix=f"{name}[{index}]")
        elif isinstance(field, serializers.Serializer):
            refused |= ignored_fields(field, value, prefix=name)
    return refused


class StrictRequestMixin:
    """Refuse, by name, every query parameter and body field the view would ignore."""

    # action -> the serializer its query parameters are validated with, or their names.
    query_params: dict[str, type[serializers.Serializer] | tuple[str, ...]] = {}
    # Actions that take no body (a body sent to them would be ignored).
    bodyless_actions: tuple[str, ...] = ("destroy",)

    def taken_query_params(self) -> set[str]:
        action = getattr(self, "action", None)
        declared = self.query_params.get(action, ())
        names = set(declared().fields) if isinstance(declared, type) else set(declared)
        if action == "list":
            paginator = getattr(self, "paginator", None)
            if paginator is not None:
                names |= {p["name"] for p in paginator.get_schema_operation_parameters(self)}
            filterset = getattr(self, "filterset_class", None)
            if filterset is not None:
                names |= set(filterset.base_filters)
        return names

    def refuse_unknown_query_params(self, request) -> None:
        taken = self.taken_query_params()
        unknown = [name for name in request.query_params if name not in taken]
        if not unknown:
            return
        if taken:
            message = _("Unknown query parameter. This endpoint takes: %(names)s.") % {
                "names": ", ".join(sorted(taken))
            }
        else:
            message = _("Unknown query parameter. This endpoint takes none.")
        raise exceptions.ValidationError({name: [message] for name in unknown})

    def refuse_body(self, request) -> None:
        data = request.data
        if isinstance(data, Mapping) and data:
            raise exceptions.ValidationError({str(key): [_unknown_field()] for key in data})
        if not isinstance(data, Mapping) and data not in (None, "", []):
            raise exceptions.ValidationError(_("This request takes no body."))

    def initial(self, request, *args, **kwargs):
        # After authentication, permissions and throttles: a stranger gets 401, not 400.
        super().initial(request, *args, **kwargs)
        self.refuse_unknown_query_params(request)
        if getattr(self, "action", None) in self.bodyless_actions:
            self.refuse_body(request)

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if "data" in kwargs:
            output_class = getattr(self, "serializer_class", None)
            output = None
            if output_class is not None and not isinstance(serializer, output_class):
                output = output_class(context=self.get_serializer_context())
            refused = ignored_fields(serializer, kwargs["data"], output=output)
            if refused:
                raise exceptions.ValidationError(refused)
        return serializer
