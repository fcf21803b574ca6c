import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_documents_every_variable_settings_read():
    settings_source = (ROOT / "config" / "settings" / "base.py").read_text()
    read = set(re.findall(r"env(?:\.\w+)?\(\s*[\"']([A-Z_]+)[\"']", settings_source))
    read |= set(re.findall(r'"([A-Z_]+)" in os\.environ', settings_source))
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read, "found no env reads: the pattern is out of date"
    assert read - documented == set()


def test_env_example_as_a_dotenv_is_a_working_development_configuration():
    """Copying .env.example to .env must not break anything: only non-empty safe values are active."""
    active = re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert all(value.strip() for _, value in active)
    assert "SECRET_KEY" not in dict(active)
