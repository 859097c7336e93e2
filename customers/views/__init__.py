"""Browser views of the registry, one module per area (lists, card, card parts)."""
