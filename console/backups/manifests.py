"""What a workspace archive holds and how it is checked: the manifest's format, its signature with SECRET_KEY
(salt unchanged since the archives' first format), each file's checksum, and older archives' model labels."""

import hashlib
import json
import logging
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation

from console.backups import postgres, storage
from console.backups.storage import BackupError

logger = logging.getLogger(__name__)


FORMAT = 2


MANIFEST, PUBLIC_ROWS, TABLES_DIR = "manifest.json", "public.json", "tables"


# The manifest's signature with this deployment's SECRET_KEY (or one of SECRET_KEY_FALLBACKS): write access to
# the backups storage must not be enough to have forged rows restored into a workspace.
SIGNATURE = "manifest.sig"


SIGNING_SALT = "tenants.backups.manifest"  # unchanged by the move to console: older archives still verify


# Models that moved to another app since older archives were made: their rows are read under the new label.
MOVED_LABELS = {"tenants.auditevent": "core.auditevent"}
# Migrations of shared apps that changed no table anywhere (models moved between apps, same tables): an
# archive made before them was made at the same workspace state.
MOVES_WITHOUT_SCHEMA_CHANGES = {
    ("tenants", "0009_audit_and_restores_moved"),
    ("core", "0003_auditevent_moved_launchcheckrun_moved"),
    ("console", "0001_initial"),
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_signature(manifest: bytes) -> str:
    """The signature stored beside a manifest (Django's signing: SECRET_KEY, salted for this use)."""
    return signing.Signer(salt=SIGNING_SALT).sign(hashlib.sha256(manifest).hexdigest())


def _signature_valid(manifest: bytes, signature: str) -> bool:
    try:
        return signing.Signer(salt=SIGNING_SALT).unsign(signature.strip()) == hashlib.sha256(manifest).hexdigest()
    except signing.BadSignature:
        return False


def open_archive(backup: str | Path, folder: Path) -> dict:
    """Unpack the archive (a local path, or a name in the backups storage) and check it completely."""
    names = _archive_unpack(backup, folder)
    signature = folder / SIGNATURE
    if not signature.is_file() or not _signature_valid((folder / MANIFEST).read_bytes(), signature.read_text()):
        raise BackupError(
            f"{backup}: its manifest is not signed with this deployment's key: it was altered, or made by another "
            "deployment (SECRET_KEY_FALLBACKS keeps an old key's backups valid)"
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except ValueError:
        raise BackupError(f"{backup}: its manifest is not valid JSON") from None
    if manifest.get("format") != FORMAT or manifest.get("kind") != "workspace":
        raise BackupError(
            f"{backup} is of format {manifest.get('format')!r} ({manifest.get('kind')!r}); this version reads "
            f"workspace backups of format {FORMAT} only"
        )
    listed = manifest.get("files") or {}
    expected = {
        PUBLIC_ROWS,
        *(f"{TABLES_DIR}/{table}.copy" for table in manifest.get("tables") or {}),
    }
    if set(listed) != expected or names != {MANIFEST, SIGNATURE, *expected}:
        raise BackupError(f"{backup}: the files in the archive are not the ones its manifest lists")
    for filename, entry in listed.items():
        if entry.get("sha256") != file_sha256(folder / filename):
            raise BackupError(f"{backup}: checksum mismatch for {filename}: the archive is damaged or altered")
    if not _migrations_match(manifest):
        raise BackupError(
            f"{backup} was made at another migration state (app version {manifest.get('app_version')}): "
            "restore it with the release that made it"
        )
    return manifest


def _migrations_match(manifest: dict) -> bool:
    """Was the archive made at the migration state the template has now? Archives carry the digest of the
    workspace apps' migrations (`workspace_migrations`), which a shared app's migration leaves alone. Older
    ones carry only every app's (`migrations`): they match the template's, or the template's without the
    shared apps' state-only migrations of the release that moved models into core and console."""
    template = settings.TENANT_BASE_SCHEMA
    if "workspace_migrations" in manifest:
        wanted = postgres.migrations_digest(template, app_labels=postgres.workspace_app_labels())
        return manifest["workspace_migrations"] == wanted
    return manifest.get("migrations") in (
        postgres.migrations_digest(template),
        postgres.migrations_digest(template, leaving_out=MOVES_WITHOUT_SCHEMA_CHANGES),
    )


def _archive_unpack(backup: str | Path, folder: Path) -> set[str]:
    """Extract the archive into `folder` (fetched from the storage first when `backup` is a name); the names of
    the files it holds."""
    with tempfile.TemporaryDirectory() as download:
        local = backup  # a Path: a local file given on the command line; a str: a name in the storage
        if not isinstance(local, Path):
            local = Path(download) / "archive.tar"
            try:
                storage.fetch(str(backup), local)
            except (
                FileNotFoundError,
                SuspiciousFileOperation,
            ):  # not in the storage, or a path out of it
                raise BackupError(f"no backup {backup}") from None
        if not local.is_file():
            raise BackupError(f"no backup {backup}")
        try:
            with tarfile.open(local, mode="r:") as tar:
                names = {member.name for member in tar.getmembers() if member.isfile()}
                if MANIFEST not in names or PUBLIC_ROWS not in names:
                    raise BackupError(f"{backup} is not a workspace backup (it holds {sorted(names)[:5]})")
                tar.extractall(folder, filter="data")
        except tarfile.TarError as error:
            raise BackupError(f"{backup} is not a readable archive: {error}") from None
    return names


def labels_current(public):
    """An archive's public rows under today's model labels (MOVED_LABELS): archives made before a model moved
    to another app restore like new ones."""
    if not isinstance(public, dict):
        return public
    current = {}
    for label, rows in public.items():
        moved = MOVED_LABELS.get(label, label)
        if moved != label and isinstance(rows, list):
            rows = [{**row, "model": moved} if isinstance(row, dict) else row for row in rows]
        current[moved] = rows
    return current
