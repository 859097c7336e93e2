"""What the card's views share besides the card layout: who acts, and the save-a-form step."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from audit.actors import Actor
from tenancy.forms import apply_service_errors


def request_actor(request) -> Actor:
    return Actor.user(request.user)


def save_and_redirect(
    request, form, save: Callable[[], object], *, message: str, to: str, **url_kwargs
):
    """On a valid POST of ``form``: call ``save()``, flash ``message``, redirect to the URL
    named ``to`` (post/redirect/get).

    None means "show the form again": nothing was posted, the form is invalid, or ``save``
    raised a ValidationError, whose messages are now on the form's fields.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        save()
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return None
    messages.success(request, message)
    return redirect(to, **url_kwargs)
