"""The product's date formats per language (settings.FORMAT_MODULE_PATH), issue 14.

ISO-like dates in the Nordic languages ("2026-11-30 14:05"), as offices there write
them; English gets day, month name and a 24-hour clock ("30 Nov 2026 14:05") rather
than Django's US default ("11/30/2026 6:26 p.m."). Anything not set here (input
formats, number separators) falls back to Django's own locale formats.
"""
