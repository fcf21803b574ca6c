"""A real database outage for tests: the default connection pointed at a closed port, and back."""

import pytest
from django.db import connections

from tests.support.ports import free_port as closed_port


@pytest.fixture
def database(django_db_setup, django_db_blocker):
    """Switch the default connection between the test database and a closed port (a real outage)."""
    connection = connections["default"]
    saved = dict(connection.settings_dict)

    class Switch:
        def down(self):
            connection.close()
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))

        def up(self):
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)

    switch = Switch()
    with django_db_blocker.unblock():
        try:
            yield switch
        finally:
            switch.up()
