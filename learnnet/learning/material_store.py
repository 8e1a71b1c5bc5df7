"""Where the bytes of materials are kept: one small interface, two stores.

- :class:`DatabaseStore` (the default): a row of ``material_blob`` per file, written and
  deleted in the same transaction as the material itself. Every app server sees it, and
  a backup of the database holds the files.
- :class:`DirectoryStore` (``LEARNNET_MATERIALS_DIR``): a file per material in a
  directory that every app server mounts (NFS, a shared volume). A file is written under
  a temporary name and renamed, and removed again when the transaction that would have
  recorded it rolls back; a deleted material's file goes after the commit. So a failed
  upload leaves nothing behind and a rolled-back delete loses nothing.

An S3-compatible store would be a third class with the same four methods (put, get,
delete, stored_keys); it is left out (no client library among the dependencies).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session as OrmSession

from learnnet.extensions import db
from learnnet.learning.material_models import MaterialBlob

_KEY = re.compile(r"[0-9a-f]{16,64}")
_WRITTEN = "materials_written"
_TO_UNLINK = "materials_to_unlink"


class MaterialStore(Protocol):
    """Keeps bytes under a key (see :func:`learnnet.learning.material_models.new_storage_key`)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def stored_keys(self) -> Iterator[str]: ...


class DatabaseStore:
    """Bytes in the ``material_blob`` table, inside the caller's transaction."""

    def put(self, key: str, data: bytes) -> None:
        db.session.add(MaterialBlob(key=key, data=data))

    def get(self, key: str) -> bytes | None:
        return db.session.scalar(select(MaterialBlob.data).where(MaterialBlob.key == key))

    def delete(self, key: str) -> None:
        db.session.execute(delete(MaterialBlob).where(MaterialBlob.key == key))

    def stored_keys(self) -> Iterator[str]:
        yield from db.session.scalars(select(MaterialBlob.key))


class DirectoryStore:
    """Bytes as files in ``root`` (``ab/abcdef…``), tied to the transaction (see above)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):  # never a path of someone's choosing
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        db.session.info.setdefault(_WRITTEN, []).append(path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def delete(self, key: str) -> None:
        db.session.info.setdefault(_TO_UNLINK, []).append(self._path(key))

    def stored_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*"):
            if _KEY.fullmatch(path.name) and path.is_file():
                yield path.name


def store_for(config: Any) -> MaterialStore:
    """The configured store: ``MATERIALS_DIR`` when set, else the database."""
    root = str(config.get("MATERIALS_DIR") or "").strip()
    return DirectoryStore(root) if root else DatabaseStore()


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _after_commit(session: OrmSession) -> None:
    session.info.pop(_WRITTEN, None)  # recorded: keep them
    _unlink(session.info.pop(_TO_UNLINK, []))


def _after_rollback(session: OrmSession, previous: Any) -> None:
    if previous.parent is not None:  # a savepoint: the outer transaction goes on
        return
    _unlink(session.info.pop(_WRITTEN, []))  # never recorded: nothing half-written
    session.info.pop(_TO_UNLINK, None)  # the material is still there: keep its file


def register() -> None:
    """Tie the directory store's files to the transactions (once per process)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_soft_rollback", _after_rollback)
