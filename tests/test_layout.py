"""The tests mirror the code (docs/architecture.md): each app's tests in tests/<app>/, browser tests in
tests/e2e/, the slow suites in tests/failover/ and tests/deploy/, shared helpers in tests/support/. A
conftest.py holds fixtures and hooks only, and no module imports one (nor another test module): what
tests share is imported from tests/support/."""

import ast
import tomllib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
APPS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
TEST_FOLDERS = {*APPS, "e2e", "failover", "deploy"}
# Not tests: dj-stripe's migrations for the test settings (MIGRATION_MODULES in config/settings/test.py).
DATA_FOLDERS = {"djstripe_migrations"}


def _modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported(path: Path) -> set[str]:
    """Every module `path` imports, absolute (relative imports resolved against its package)."""
    package = _name(path).rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from tests.billing import conftest`
    return names


def test_the_walk_sees_the_suite():
    names = {path.name for path in _modules()}
    assert {"conftest.py", "test_layout.py", "clients.py", "test_audit_walk.py"} <= names
    assert sum(name.startswith("test_") for name in names) > 50


def test_no_module_imports_a_conftest_or_another_test_module():
    offending = []
    for path in _modules():
        for name in _imported(path):
            last = name.rsplit(".", 1)[-1]
            if name.startswith("tests.") or name == "conftest":
                if last == "conftest" or last.startswith("test_"):
                    offending.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offending == [], "move what they share to tests/support/:\n" + "\n".join(offending)


def test_every_module_lives_where_it_belongs():
    """test_*.py in tests/<app>/ (or e2e, failover, deploy), helpers in tests/support/, nothing else."""
    misplaced = []
    for path in _modules():
        parts = path.relative_to(TESTS).parts
        if path.name == "__init__.py" or path.name == "conftest.py" or parts[0] in {"support", *DATA_FOLDERS}:
            continue
        if parts == ("test_layout.py",):
            continue
        if not (len(parts) == 2 and parts[0] in TEST_FOLDERS and path.name.startswith("test_")):
            misplaced.append(str(path.relative_to(ROOT)))
    assert misplaced == [], f"test modules go in tests/<one of {sorted(TEST_FOLDERS)}>/, helpers in tests/support/"


@pytest.mark.parametrize("app", APPS)
def test_every_app_has_its_tests_folder(app):
    folder = TESTS / app
    assert (folder / "__init__.py").exists(), f"tests/{app}/__init__.py"
    assert list(folder.glob("test_*.py")), f"no tests in tests/{app}/"


def test_every_folder_of_tests_is_a_package():
    """Two apps may each have a test_admin.py: as packages they are tests.console.test_admin and so on."""
    folders = {path.parent for path in _modules() if path.name.startswith("test_")}
    assert [str(folder) for folder in sorted(folders) if not (folder / "__init__.py").exists()] == []


def _is_fixture(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
    return False


def test_conftest_files_hold_only_fixtures_and_hooks():
    helpers = []
    for path in TESTS.rglob("conftest.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not (
                isinstance(node, ast.FunctionDef) and (_is_fixture(node) or node.name.startswith("pytest_"))
            ):
                helpers.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert helpers == [], "helpers belong in tests/support/:\n" + "\n".join(helpers)
