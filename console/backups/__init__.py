"""Backups of the whole database and of one workspace, and restoring a workspace from its backup.

A workspace backup is one uncompressed tar in the `backups` storage (settings.STORAGES), at
`workspaces/<subdomain>/<timestamp>.tar`:

- `tables/<table>.copy`: each table of the workspace's schema in COPY's text format;
- `public.json`: its rows in the public schema (the Tenant row, domains, billing, legal acceptances,
  audit events, emails, notices), serialized by Django;
- `manifest.json`: SHA-256 of every file, each table's columns, row count and identity sequence, the
  subdomain, schema, creation time, app version, server version and a digest of the schema's applied
  migrations;
- `manifest.sig`: the manifest's signature with SECRET_KEY (an archive is input: see _load_schema).

Everything is read in one repeatable-read transaction, with catalog queries filtered by the schema's
namespace: the cost is the workspace's own size, not the number of other workspaces (pg_dump --schema
reads the whole catalog: 0.14 s at 10 workspaces, 0.92 s at 1,000).

A restore checks the manifest before it touches anything. Then, in one transaction, it builds the tables
from the template (same migrations: the manifest's digest must match the template's), loads the rows with
COPY, adds constraints and indexes (tenants/schemas/clone.py), sets the sequences, swaps the schemas by renaming
and replaces the public rows. Any failure rolls all of it back: the workspace never runs half-restored.
docs/decisions.md has the why.

The package: `storage` (the backups storage: names, listing, retention), `postgres` (pg_dump and the
server, repeatable reads, the schema's migrations), `manifests` (what an archive holds, its signature and
checks), `dumps` (making backups, and their status) and `restore` (a workspace back from its archive).
Callers use the names imported here.
"""

from console.backups.dumps import (
    backup_status,
    database_backup,
    database_backup_verify,
    newest_database_backup_at,
    workspace_backup,
    workspaces_backup_all,
    workspaces_backup_last_run,
)
from console.backups.manifests import MANIFEST, PUBLIC_ROWS, SIGNATURE, manifest_signature
from console.backups.postgres import app_version, lock_table_shortfall, pg_program, server_version
from console.backups.restore import restore_check, workspace_restore
from console.backups.storage import (
    MAX_AGE,
    STAMP,
    Backup,
    BackupError,
    StoredBackup,
    purged_backups_delete,
    workspace_backup_list,
    workspace_backups,
)

__all__ = [
    "MANIFEST",
    "MAX_AGE",
    "PUBLIC_ROWS",
    "SIGNATURE",
    "STAMP",
    "Backup",
    "BackupError",
    "StoredBackup",
    "app_version",
    "backup_status",
    "database_backup",
    "database_backup_verify",
    "lock_table_shortfall",
    "manifest_signature",
    "newest_database_backup_at",
    "pg_program",
    "purged_backups_delete",
    "restore_check",
    "server_version",
    "workspace_backup",
    "workspace_backup_list",
    "workspace_backups",
    "workspace_restore",
    "workspaces_backup_all",
    "workspaces_backup_last_run",
]
