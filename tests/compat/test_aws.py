"""The runtime translated notebooks import: dbutils.fs on S3 and dbutils.secrets on Secrets Manager (moto)."""

from __future__ import annotations

import json

import boto3
import pytest

from datax_migrate.compat import DBUtils
from datax_migrate.compat import secrets as secret_rules

pytestmark = pytest.mark.aws


def test_fs_on_s3(aws_env: str) -> None:
    boto3.client("s3").create_bucket(Bucket="lake")
    dbutils = DBUtils()
    dbutils.fs.put("s3://lake/in/a.csv", "id\n1\n")
    dbutils.fs.put("s3://lake/in/sub/b.csv", "id\n2\n")
    assert [(f.name, f.size) for f in dbutils.fs.ls("s3://lake/in")] == [("a.csv", 5), ("sub/", 0)]
    assert dbutils.fs.head("s3://lake/in/a.csv", 3) == "id\n"
    with pytest.raises(FileExistsError):
        dbutils.fs.put("s3://lake/in/a.csv", "x")
    dbutils.fs.cp("s3://lake/in", "s3://lake/copy", True)
    assert [f.name for f in dbutils.fs.ls("s3://lake/copy/sub")] == ["b.csv"]
    assert dbutils.fs.rm("s3://lake/in", True)
    assert dbutils.fs.ls("s3://lake/in") == []


def test_secrets_naming_rules(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name="jdbc/password", SecretString="s3cr3t")
    client.create_secret(Name="prod-api", SecretString=json.dumps({"token": "t0k"}))
    dbutils = DBUtils()
    assert dbutils.secrets.get("jdbc", "password") == "s3cr3t"
    assert [m.key for m in dbutils.secrets.list("jdbc")] == ["password"]
    monkeypatch.setenv("DATAX_SECRET_NAME", "prod-{scope}")
    assert dbutils.secrets.get("api", "token") == "t0k"
    assert [m.key for m in dbutils.secrets.list("api")] == ["token"]
    secret_rules.configure("{scope}/{key}")
    try:
        assert [s.name for s in dbutils.secrets.listScopes()] == ["jdbc", "prod-api"]
    finally:
        secret_rules._configured.clear()
