"""Signals other apps listen to (notifications/ knows none of them).

``message_status_changed``
    Sent inside the transaction that moved an :class:`OutboundMessage` forward,
    with the tenant active. Keyword arguments: ``message`` (the OutboundMessage),
    ``old`` and ``new`` (status strings, see ``models.Status``). ``sender`` is
    ``OutboundMessage``. Receivers find their own rows by ``message.reference``.

``sms_received``
    Sent for an inbound SMS, inside the owning tenant's context. Keyword
    arguments: ``tenant``, ``from_number`` (E.164 as the provider gave it),
    ``body`` (text), ``message`` (the latest OutboundMessage SMS to that number,
    or None). ``sender`` is ``OutboundMessage``.
"""

from django.dispatch import Signal

message_status_changed = Signal()
sms_received = Signal()
