"""docs/decisions.md: every entry starts with its status, and a superseded one names a newer entry that exists."""

import re
from pathlib import Path

from django.conf import settings

ENTRY = re.compile(r"^### (?P<title>.+)\n(?P<first>.*)$", re.M)
STATUS = re.compile(r'^Status: (current\.|(current; .+ )?superseded by "[^"]+")')
NAMED = re.compile(r'superseded by "([^"]+)"')


def test_every_decision_has_a_status_and_points_to_newer_entries_only():
    entries = ENTRY.findall((Path(settings.BASE_DIR) / "docs" / "decisions.md").read_text())
    assert len(entries) > 50
    titles = [title for title, _ in entries]
    for position, (title, first) in enumerate(entries):
        assert STATUS.match(first), f"{title}: {first!r}"
        for newer in NAMED.findall(first):
            assert newer in titles[position + 1 :], f"{title}: {newer!r} is not a newer entry"
