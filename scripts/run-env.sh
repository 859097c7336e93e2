# Sourced by run.sh: the environment every process of `make run` shares.
# honcho gives each Procfile process its own PORT (web, worker + 100, beat + 200), and
# SITE_URL defaults from PORT: links built by the worker would point at a dead port.
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT:-8000}}"
