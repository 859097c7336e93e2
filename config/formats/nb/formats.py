# The Nordic output formats are one set (config/formats/sv); input formats not set here
# fall back to Django's own for the language.
from config.formats.sv.formats import *  # noqa: F403
