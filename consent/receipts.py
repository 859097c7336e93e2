"""Consent receipts: Kantara Initiative Consent Receipt v1.1 fields, with the
ISO/IEC TS 27560 consent-record notions (notice, event, state) alongside.

The receipt names the controller (the tenant) and the PII principal by the
customer's number, never by name or address.
"""

from __future__ import annotations

from django.conf import settings

from tenancy.models import Tenant

from .models import ConsentDecision, Decision

PURPOSE = "Keeping customer data for communication and customer care"


def consent_receipt(decision: ConsentDecision, *, tenant: Tenant) -> dict:
    state = {
        Decision.GRANTED: "given",
        Decision.DECLINED: "refused",
        Decision.WITHDRAWN: "withdrawn",
    }[decision.decision]
    return {
        # Kantara CR v1.1
        "version": "KI-CR-v1.1.0",
        "jurisdiction": tenant.country,
        "consentTimestamp": int(decision.decided_at.timestamp()),
        "collectionMethod": decision.method,
        "consentReceiptID": str(decision.receipt_id),
        "publicKey": None,
        "language": decision.terms_language or tenant.default_language,
        "piiPrincipalId": decision.customer.number,
        "piiControllers": [
            {
                "piiController": tenant.name,
                "onBehalf": False,
                "contact": tenant.name,
                "address": {"country": tenant.country},
                "email": "",
                "phone": "",
                "piiControllerUrl": settings.SITE_URL,
            }
        ],
        "policyUrl": settings.SITE_URL,
        "services": [
            {
                "service": "Customer registry",
                "purposes": [
                    {
                        "purpose": PURPOSE,
                        "purposeCategory": ["Customer care", "Marketing"],
                        "consentType": "EXPLICIT",
                        "piiCategory": ["Contact details", "Purchase history"],
                        "primaryPurpose": True,
                        "termination": "Until withdrawn",
                        "thirdPartyDisclosure": False,
                        "thirdPartyName": None,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        # ISO/IEC TS 27560 record notions
        "notice": {
            "version": decision.terms_version,
            "language": decision.terms_language or None,
            "sha256": decision.terms_sha256 or None,
        },
        "event": {
            "type": decision.decision,
            "time": decision.decided_at.isoformat(),
            "method": decision.method,
            "how": decision.how or None,
            "actor": {"type": decision.actor_type, "id": decision.actor_id},
            "request": decision.request_id,
        },
        "state": state,
    }
