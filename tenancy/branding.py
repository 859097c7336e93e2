"""A company's look on the pages its customers see: brand colour and logo.

Only PNG and JPEG logos: an SVG can carry script, and the logo is served from our
own origin. The checks read the file's content (Pillow), never its name.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOGO_MAX_BYTES = 500 * 1024
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def validate_brand_colour(value: str) -> None:
    if value and not COLOUR_RE.fullmatch(value):
        raise ValidationError(
            _("Enter a colour as # and six hexadecimal digits, e.g. #1a6b4f."), code="colour"
        )


def validate_logo(file) -> None:
    """An uploaded logo: at most 500 kB, and really a PNG or JPEG image."""
    from PIL import Image, UnidentifiedImageError

    if file.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo may be at most 500 kB."), code="too_big")
    try:
        file.seek(0)
        with Image.open(file) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("Upload a PNG or JPEG image."), code="type") from exc
    finally:
        file.seek(0)
    if kind not in LOGO_FORMATS:
        raise ValidationError(_("Upload a PNG or JPEG image."), code="type")


def logo_content_type(name: str) -> str:
    return "image/png" if name.lower().endswith(".png") else "image/jpeg"


def text_colour_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white is 1.05 / (L + .05), with black (L + .05) / .05; pick the larger.
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"
