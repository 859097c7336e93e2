"""Use cases of the registry, one module per part of the card.

Every function is keyword-only, runs in the active tenant's context and
records what it changed (change history for the card, audit log for the
tenant, with no personal data in the latter).
"""
