# The Nordic output formats are one set (config/formats/sv); input formats not set here
# fall back to Django's own for the language.
from config.formats.sv.formats import *  # noqa: F403

# Forms show and read the ISO form first, as the dates are shown; Danish dotted dates still parse.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
]
