"""``dbutils.fs`` on AWS: S3 through boto3 for ``s3://`` paths, the local file system otherwise."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from datax_migrate.compat._aws import client


@dataclass(frozen=True)
class FileInfo:
    """What ``dbutils.fs.ls`` returns per entry (folders end with ``/``, as on Databricks)."""

    path: str
    name: str
    size: int
    modificationTime: int  # noqa: N815 - the dbutils field name


class FileSystem:
    """The ``dbutils.fs`` subset translated notebooks call: ls, cp, mv, rm, mkdirs, put, head."""

    def ls(self, path: str) -> list[FileInfo]:
        """List a folder (one level)."""
        if not path.startswith("s3://"):
            return [
                FileInfo(
                    str(p) + ("/" if p.is_dir() else ""),
                    p.name + ("/" if p.is_dir() else ""),
                    0 if p.is_dir() else p.stat().st_size,
                    int(p.stat().st_mtime * 1000),
                )
                for p in sorted(Path(path).iterdir())
            ]
        bucket, prefix = _split(path.rstrip("/") + "/")
        found: list[FileInfo] = []
        pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            for folder in page.get("CommonPrefixes", []):
                name = folder["Prefix"][len(prefix) :]
                found.append(FileInfo(f"s3://{bucket}/{folder['Prefix']}", name, 0, 0))
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                modified = int(item["LastModified"].timestamp() * 1000)
                found.append(FileInfo(f"s3://{bucket}/{item['Key']}", name, int(item["Size"]), modified))
        return sorted(found, key=lambda info: info.path)

    def put(self, path: str, contents: str, overwrite: bool = False) -> bool:
        """Write a UTF-8 text file; refuses to replace one unless ``overwrite``."""
        if not overwrite and self._exists(path):
            raise FileExistsError(f"{path} exists: pass overwrite=True to replace it")
        if path.startswith("s3://"):
            bucket, key = _split(path)
            client("s3").put_object(Bucket=bucket, Key=key, Body=contents.encode("utf-8"))
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(contents, encoding="utf-8")
        return True

    def head(self, path: str, maxBytes: int = 65536) -> str:  # noqa: N803 - the dbutils argument name
        """The first ``maxBytes`` bytes of a file, as text."""
        if path.startswith("s3://"):
            bucket, key = _split(path)
            body = client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{maxBytes - 1}")["Body"].read()
        else:
            with open(path, "rb") as file:
                body = file.read(maxBytes)
        return bytes(body).decode("utf-8", errors="replace")

    def cp(self, source: str, destination: str, recurse: bool = False) -> bool:
        """Copy a file, or a folder with ``recurse``."""
        for src, dst in self._pairs(source, destination, recurse):
            if src.startswith("s3://") and dst.startswith("s3://"):
                src_bucket, src_key = _split(src)
                dst_bucket, dst_key = _split(dst)
                client("s3").copy_object(
                    Bucket=dst_bucket, Key=dst_key, CopySource={"Bucket": src_bucket, "Key": src_key}
                )
            elif src.startswith("s3://"):
                Path(dst).parent.mkdir(parents=True, exist_ok=True)
                client("s3").download_file(*_split(src), dst)
            elif dst.startswith("s3://"):
                client("s3").upload_file(src, *_split(dst))
            else:
                Path(dst).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
        return True

    def mv(self, source: str, destination: str, recurse: bool = False) -> bool:
        """Move a file, or a folder with ``recurse``."""
        self.cp(source, destination, recurse)
        return self.rm(source, recurse)

    def rm(self, path: str, recurse: bool = False) -> bool:
        """Remove a file, or a folder with ``recurse``; ``False`` when there was nothing."""
        if not path.startswith("s3://"):
            target = Path(path)
            if target.is_dir():
                if not recurse:
                    raise IsADirectoryError(f"{path} is a folder: pass recurse=True")
                shutil.rmtree(target)
                return True
            existed = target.exists()
            target.unlink(missing_ok=True)
            return existed
        keys = [key for key, _ in self._pairs(path, path, recurse)]
        bucket = _split(path)[0]
        for start in range(0, len(keys), 1000):
            objects = [{"Key": _split(key)[1]} for key in keys[start : start + 1000]]
            client("s3").delete_objects(Bucket=bucket, Delete={"Objects": objects})
        return bool(keys)

    def mkdirs(self, path: str) -> bool:
        """Make a folder (S3 has none: nothing to do there)."""
        if not path.startswith("s3://"):
            Path(path).mkdir(parents=True, exist_ok=True)
        return True

    def _exists(self, path: str) -> bool:
        if not path.startswith("s3://"):
            return Path(path).exists()
        bucket, key = _split(path)
        return bool(client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount", 0))

    def _pairs(self, source: str, destination: str, recurse: bool) -> list[tuple[str, str]]:
        """Each file under ``source`` (itself when not recursing) and where it goes under ``destination``."""
        if not recurse:
            return [(source, destination)]
        if source.startswith("s3://"):
            bucket, prefix = _split(source.rstrip("/") + "/")
            pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
            return [(f"s3://{bucket}/{key}", destination.rstrip("/") + "/" + key[len(prefix) :]) for key in keys]
        root = Path(source)
        return [
            (str(p), destination.rstrip("/") + "/" + p.relative_to(root).as_posix())
            for p in root.rglob("*")
            if p.is_file()
        ]


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path[len("s3://") :].partition("/")
    return bucket, key
