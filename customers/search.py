"""Nordic-aware search folding.

Both the stored ``Customer.search_text`` and every query are folded the same
way, so "ostergard", "oestergaard" and "østergård" all become "ostergard":

1. lower-case; ø→o, æ→ae, å→a, ä→a, ö→o, ü→u, ß→ss; other accents dropped;
2. the two-letter spellings oe→o, ae→a, ue→u (Danish/Norwegian/German transcriptions);
3. runs of the same vowel collapse ("aa"→"a", "gaard"→"gard"); consonants stay, so
   "ygg" keeps three letters (and a trigram).

Phone numbers are stored as digits in national form as well as in full, so
any formatting of a number finds it. PostgreSQL's trigram index on the column
(``customer_search_trgm``) serves ``LIKE '%…%'`` on it.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "å": "a", "ä": "a", "ö": "o", "ü": "u", "ß": "ss", "œ": "oe", "ð": "d"}
)
_DIGRAPHS = re.compile(r"oe|ae|ue")
_REPEATS = re.compile(r"([aeiouy])\1+")
_NOT_WORD = re.compile(r"[^a-z0-9@.\-_]+")
_PHONE_CHARS = re.compile(r"^[\d\s\-+().\/]+$")


def fold(text: str) -> str:
    """Fold text for matching (see the module docstring)."""
    text = (text or "").lower().translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _DIGRAPHS.sub(lambda m: m.group(0)[0], text)
    text = _REPEATS.sub(r"\1", text)
    return _NOT_WORD.sub(" ", text).strip()


def phone_forms(number: str, country: str = "SE") -> list[str]:
    """Digits of a phone number, in full and in national significant form."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return []
    forms = {digits}
    try:
        parsed = phonenumbers.parse(number, country or "SE")
        forms.add(str(parsed.national_number))
        forms.add(f"{parsed.country_code}{parsed.national_number}")
    except phonenumbers.NumberParseException:
        pass
    return sorted(forms)


def digits_query(query: str, country: str = "SE") -> str | None:
    """The digits to look for when the query looks like a phone or org number, else None."""
    query = query.strip()
    if not _PHONE_CHARS.match(query):
        return None
    digits = re.sub(r"\D", "", query)
    if len(digits) < 3:
        return None
    if query.startswith(("+", "00")):
        try:
            return str(phonenumbers.parse(query.replace("00", "+", 1), None).national_number)
        except phonenumbers.NumberParseException:
            return digits
    # A national trunk prefix: 070-123 45 67 is stored as 701234567 as well.
    return digits[1:] if digits.startswith("0") and len(digits) > 6 else digits


def query_terms(query: str, country: str = "SE") -> list[str]:
    """What must all occur in ``search_text`` for a customer to match ``query``."""
    digits = digits_query(query, country)
    if digits is not None:
        return [digits]
    return [term for term in fold(query).split() if term]


def customer_search_text(customer) -> str:
    """The folded text a customer is found by: name, number, email, phones, identities."""
    parts = [
        fold(customer.name),
        fold(customer.number),
        fold(customer.email),
        fold(customer.org_number),
        re.sub(r"\D", "", customer.org_number or ""),
        fold(customer.vat_number),
    ]
    for number in (customer.phone, customer.mobile):
        parts.extend(phone_forms(number, customer.country))
    return " ".join(p for p in parts if p)


# Where the Nordic letters sort: after z, in each language's own order. The database's
# collation is C (the embedded build has no ICU), so the order is encoded in the key:
# "{", "|" and "}" are the three code points that follow "z".
_AFTER_Z = {
    "sv": {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"},
    "da": {"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"},
}
_AFTER_Z["nb"] = _AFTER_Z["da"]
_AFTER_Z["fi"] = _AFTER_Z["sv"]


def sort_key(text: str, language: str = "sv") -> str:
    """A key that sorts names as a Nordic reader expects, case-insensitively.

    Swedish and Finnish: … x y z å ä ö; Danish and Norwegian: … x y z æ ø å. Other
    accented letters sort with their base letter (é with e, ü with u).
    """
    letters = _AFTER_Z.get(language, {})
    text = "".join(letters.get(ch, ch) for ch in (text or "").lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.strip()[:200]
