"""Signals other apps listen to (notifications/ knows none of them).

``message_status_changed``
    Sent inside the transaction that moved an :class:`OutboundMessage` forward,
    with the tenant active. Keyword arguments: ``message`` (the OutboundMessage),
    ``old`` and ``new`` (status strings, see ``models.Status``). ``sender`` is
    ``OutboundMessage``. Receivers find their own rows by ``message.reference``.

``sms_received``
    Sent for every signed inbound SMS, with NO tenant active: an SMS names only two
    numbers, and a shared sender (the platform's messaging service) serves many tenants,
    so notifications/ cannot know whom it answers. The receiver that owns the
    conversation finds that itself, through a narrow route of its own (consent: the reply
    code, ``consent.replies``). Keyword arguments: ``from_number`` (the customer's, E.164
    as the provider gave it), ``to_number`` (ours), ``sender_key``
    (``selectors.inbound_sender_key``: ``""`` for the platform's shared sender, else the
    number written to), ``body`` (text), ``provider_message_id`` (the provider's id of the
    inbound message). ``sender`` is ``OutboundMessage``.
"""

from django.dispatch import Signal

message_status_changed = Signal()
sms_received = Signal()
