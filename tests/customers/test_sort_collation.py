"""Names sort the Nordic way whatever the database's collation (issue 15 item 5).

``sort_key`` puts å/ä/ö after z as "{", "|", "}", which only byte order keeps there. The
compose image's database is created in en_US.utf8, where those characters are ignored: the
column declares "C" itself (customers migration 0010). Here a scratch database is created
in such a locale, migrated, and the customer list's own query is asked for the order.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from psycopg import sql

from customers.selectors import customer_list
from tenancy.context import tenant_context
from tests.conftest import _use_database
from tests.db import owner_conninfo
from tests.factories import TenantFactory, make_customer

# libc names first (what the compose image's postgres uses), then ICU where it was built in.
LOCALES = [
    "LOCALE 'en_US.utf8'",
    "LOCALE 'en_US.UTF-8'",
    "LOCALE 'sv_SE.utf8'",
    "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    "LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.UTF-8'",
]


def _create_in_linguistic_locale(conn: psycopg.Connection, name: str) -> str:
    for locale in LOCALES:
        try:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ").format(sql.Identifier(name))
                + sql.SQL(locale)
            )
        except psycopg.Error:
            continue
        return locale
    pytest.skip("the server has no non-C locale (libc en_US/sv_SE or ICU) to test with")


@pytest.fixture
def linguistic_db(django_db_setup, django_db_blocker):
    """A freshly migrated database whose default collation is not C; Django uses it inside."""
    original = settings.DATABASES["default"]["NAME"]
    name = f"{original}_coll"
    with psycopg.connect(owner_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        _create_in_linguistic_locale(conn, name)
    with django_db_blocker.unblock():
        try:
            _use_database(name)
            call_command("migrate", verbosity=0)
            yield name
        finally:
            connections.close_all()
            _use_database(original)
            with psycopg.connect(owner_conninfo("postgres"), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def test_the_customer_list_sorts_swedish_names_in_a_non_c_database(linguistic_db):
    with connections["default"].cursor() as cursor:
        # The premise: this database's own order would put "{berg" (Åberg's key) first.
        cursor.execute("SELECT x FROM (VALUES ('aaby'), ('{berg'), ('zeta')) v(x) ORDER BY x")
        assert [r[0] for r in cursor.fetchall()] != ["aaby", "zeta", "{berg"]
    tenant = TenantFactory(languages=["sv", "en"])
    with tenant_context(tenant):
        for name in ("Öst", "Zeta", "Ärlig", "Aaby", "Åberg"):
            make_customer(name=name)
        assert [c.name for c in customer_list()] == ["Aaby", "Zeta", "Åberg", "Ärlig", "Öst"]
        assert [c.name for c in customer_list(ordering="-name")] == [
            "Öst",
            "Ärlig",
            "Åberg",
            "Zeta",
            "Aaby",
        ]
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns"
            " WHERE table_name = 'customers_customer' AND column_name = 'sort_name'"
        )
        assert cursor.fetchone() == ("C",)
