"""Browser views of the registry, one module per area: lists, the card (``card`` and a
``card_*`` module per tab), the card's parts (``parts`` and ``parts_*``); ``shortcuts``
holds what they share."""
