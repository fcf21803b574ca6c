"""Backups in an S3 bucket: moto's S3 server on loopback (real HTTP, as to AWS or MinIO), STORAGES["backups"]
an S3Storage of django-storages pointed at it. What landed in the bucket is read with boto3, not with our
code. Like tests/console/test_backups.py these tests commit (committed_db) and clean up after themselves."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.core.management import CommandError, call_command
from django.utils import timezone
from moto.server import ThreadedMotoServer

from billing.models import BillingAccount
from console import backups
from legal.services import acceptance_record_current
from tests.support.backups import scratch_schemas, workspace_change, workspace_state
from tests.support.ports import free_port
from tests.support.workspaces import add_member

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "portal-test"  # the storage's `location`: every key of ours starts with it
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
STAMPED_TAR = r"\d{8}T\d{12}Z\.tar"


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, **KEYS)


def s3_storage(*, endpoint: str, bucket: str, **options) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": KEYS["region_name"],
            "access_key": KEYS["aws_access_key_id"],
            "secret_key": KEYS["aws_secret_access_key"],
            "location": PREFIX,
            "file_overwrite": False,
            **options,
        },
    }


@pytest.fixture
def bucket(settings, s3, s3_endpoint) -> str:
    """A new bucket per test, and the backups storage pointed at it."""
    name = f"backups-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    settings.STORAGES = {**settings.STORAGES, "backups": s3_storage(endpoint=s3_endpoint, bucket=name)}
    return name


def objects(s3, bucket: str) -> dict[str, str]:
    """Every key in the bucket with its ETag (changes when the object is rewritten)."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {entry["Key"]: entry["ETag"] for page in pages for entry in page.get("Contents", [])}


def body(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture
def two_workspaces(make_committed_workspace):
    alpha = make_committed_workspace("s3alpha")
    beta = make_committed_workspace("s3beta")
    acceptance_record_current(tenant=alpha, email=alpha.owner_email, ip_address="192.0.2.1")
    add_member(alpha, "ann@s3alpha.test", full_name="Ann")
    add_member(alpha, "bob@s3alpha.test", full_name="Bob")
    add_member(beta, "zed@s3beta.test", full_name="Zed")
    BillingAccount.objects.create(tenant=alpha, stripe_customer_id="cus_s3alpha")
    return alpha, beta


def test_a_workspace_backup_lands_in_the_bucket_with_a_manifest_that_matches_its_files(s3, bucket, two_workspaces):
    call_command("backup_workspace", "s3alpha")

    (key,) = objects(s3, bucket)
    assert re.fullmatch(rf"{PREFIX}/workspaces/s3alpha/{STAMPED_TAR}", key)
    archive = body(s3, bucket, key)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        manifest = json.load(tar.extractfile(backups.MANIFEST))
        files = {
            m.name: tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile() and m.name not in (backups.MANIFEST, backups.SIGNATURE)
        }
    assert manifest["subdomain"] == "s3alpha"
    assert set(files) == set(manifest["files"])
    for name, data in files.items():
        assert manifest["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}, name
    # No grant to anyone but the owner: the object is as private as the bucket.
    grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"] and "URI" not in grants[0]["Grantee"]
    (listed,) = backups.workspace_backup_list(subdomain="s3alpha")
    assert (listed.name, listed.size) == (key.removeprefix(f"{PREFIX}/"), len(archive))


def test_restore_from_the_bucket_brings_back_the_rows_of_the_backup(s3, bucket, two_workspaces):
    alpha, _ = two_workspaces
    backed_up = workspace_state(alpha)
    call_command("backup_workspace", "s3alpha")
    (name,) = backups.workspace_backups(subdomain="s3alpha")
    workspace_change(alpha)
    assert workspace_state(alpha) != backed_up

    call_command("restore_workspace", name, "--yes")

    assert workspace_state(alpha) == backed_up
    assert scratch_schemas() == []


def test_workspaces_back_up_under_their_own_prefixes_and_restoring_one_leaves_the_other(s3, bucket, two_workspaces):
    alpha, beta = two_workspaces
    alpha_backed_up = workspace_state(alpha)
    call_command("backup_workspace", "s3alpha")
    call_command("backup_workspace", "s3beta")
    stored = objects(s3, bucket)
    assert [key.rsplit("/", 1)[0] for key in sorted(stored)] == [
        f"{PREFIX}/workspaces/s3alpha",
        f"{PREFIX}/workspaces/s3beta",
    ]
    workspace_change(alpha)
    workspace_change(beta)
    beta_now = workspace_state(beta)

    (alpha_backup,) = backups.workspace_backups(subdomain="s3alpha")
    call_command("restore_workspace", alpha_backup, "--yes")

    assert workspace_state(alpha) == alpha_backed_up
    assert workspace_state(beta) == beta_now
    assert objects(s3, bucket) == stored  # a restore only reads


def test_a_backup_run_expires_its_own_workspaces_old_objects_by_the_time_in_their_names(
    s3, bucket, settings, two_workspaces
):
    settings.BACKUP_KEEP_DAYS = 14
    now = timezone.now()

    def made(days: float) -> str:
        return (now - timedelta(days=days)).strftime(backups.STAMP)

    expired = [f"{PREFIX}/workspaces/s3alpha/{made(30)}.tar", f"{PREFIX}/workspaces/s3alpha/{made(14.1)}.tar"]
    kept = [
        f"{PREFIX}/workspaces/s3alpha/{made(13.9)}.tar",  # within BACKUP_KEEP_DAYS
        f"{PREFIX}/workspaces/s3alpha/notes.txt",  # not a backup's name
        f"{PREFIX}/workspaces/s3alphaold/{made(30)}.tar",  # another workspace whose name starts the same
        f"{PREFIX}/workspaces/s3beta/{made(30)}.tar",  # another workspace: its own run expires it
        f"{PREFIX}/database/{made(30)}.dump",  # another kind
        f"other-deployment/workspaces/s3alpha/{made(30)}.tar",  # outside the storage's prefix
    ]
    for key in expired + kept:
        s3.put_object(Bucket=bucket, Key=key, Body=b"old")

    call_command("backup_workspace", "s3alpha")

    (new,) = set(objects(s3, bucket)) - set(kept)
    assert re.fullmatch(rf"{PREFIX}/workspaces/s3alpha/{STAMPED_TAR}", new)
    assert set(objects(s3, bucket)) == {new, *kept}


def test_the_whole_database_backup_lands_in_the_bucket_with_its_manifest(s3, bucket, two_workspaces, tmp_path):
    alpha, _ = two_workspaces

    call_command("backup")

    dump_key, manifest_key = sorted(objects(s3, bucket))
    assert re.fullmatch(rf"{PREFIX}/database/\d{{8}}T\d{{12}}Z\.dump", dump_key)
    assert manifest_key == dump_key.removesuffix(".dump") + ".json"
    dump = body(s3, bucket, dump_key)
    manifest = json.loads(body(s3, bucket, manifest_key))
    assert manifest["kind"] == "database"
    assert manifest["files"]["database.dump"] == {"sha256": hashlib.sha256(dump).hexdigest(), "size": len(dump)}
    assert backups.newest_database_backup_at().isoformat() == manifest["created_at"]
    (tmp_path / "database.dump").write_bytes(dump)
    listing = subprocess.run(
        [backups.pg_program("pg_restore"), "--list", str(tmp_path / "database.dump")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"SCHEMA - {alpha.schema_name}" in listing


def test_restoring_a_name_the_bucket_does_not_have_is_a_plain_error(bucket, two_workspaces):
    with pytest.raises(CommandError, match="no backup workspaces/s3alpha/20200101T000000000000Z.tar"):
        call_command("restore_workspace", "workspaces/s3alpha/20200101T000000000000Z.tar", "--yes")


def test_a_missing_bucket_is_a_readable_error(settings, s3_endpoint, two_workspaces):
    settings.STORAGES = {**settings.STORAGES, "backups": s3_storage(endpoint=s3_endpoint, bucket="no-such-bucket")}

    with pytest.raises(CommandError, match="the backups storage \\(s3://no-such-bucket/.*\\) could not save"):
        call_command("backup_workspace", "s3alpha")


def test_an_unreachable_endpoint_is_a_readable_error(settings, two_workspaces):
    quick = Config(connect_timeout=1, retries={"mode": "standard", "max_attempts": 1})
    endpoint = f"http://127.0.0.1:{free_port()}"
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": s3_storage(endpoint=endpoint, bucket="portal-backups", client_config=quick),
    }

    with pytest.raises(CommandError, match="could not save .*127.0.0.1"):
        call_command("backup_workspace", "s3alpha")


# --- Settings: the environment chooses the storage ----------------------------------------------


def backups_storage_from_env(**variables: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with these variables, and save one small file through
    STORAGES["backups"]; prints the storage's class and the saved name."""
    code = (
        "import django; django.setup(); from django.core.files.base import ContentFile; "
        "from django.core.files.storage import storages; storage = storages['backups']; "
        "print(type(storage).__name__, storage.save('database/probe.txt', ContentFile(b'probe')))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BACKUP_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, **variables, "APP_ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_backup_s3_bucket_set_backups_go_to_that_bucket_under_the_prefix(s3, s3_endpoint, tmp_path):
    s3.create_bucket(Bucket="portal-env-backups")

    result = backups_storage_from_env(
        BACKUP_S3_BUCKET="portal-env-backups",
        BACKUP_S3_ENDPOINT_URL=s3_endpoint,
        BACKUP_S3_REGION="us-east-1",
        BACKUP_S3_PREFIX="/staging/portal/",
        BACKUP_S3_ACCESS_KEY_ID="testing",
        BACKUP_S3_SECRET_ACCESS_KEY="testing",
        BACKUP_S3_SSE="AES256",
        BACKUP_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "database/probe.txt"]
    head = s3.head_object(Bucket="portal-env-backups", Key="staging/portal/database/probe.txt")
    assert head["ServerSideEncryption"] == "AES256"
    assert list(tmp_path.iterdir()) == []


def test_without_backup_s3_bucket_backups_go_to_backup_dir(tmp_path):
    result = backups_storage_from_env(BACKUP_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FileSystemStorage", "database/probe.txt"]
    assert (tmp_path / "database" / "probe.txt").read_bytes() == b"probe"


def test_s3_variables_without_a_bucket_are_refused():
    result = backups_storage_from_env(BACKUP_S3_SECRET_ACCESS_KEY="testing")

    assert result.returncode != 0
    assert "BACKUP_S3_* variables are set without BACKUP_S3_BUCKET" in result.stderr
