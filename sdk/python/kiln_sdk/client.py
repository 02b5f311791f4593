"""A thin Python client for the kiln.v1.Registry API: uploads that stream in constant memory, paged lists as
generators, watch and download streams, and typed errors."""
from __future__ import annotations

import io
import os
import stat
import tarfile
import threading
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import grpc

from kiln_sdk._gen.kiln.v1 import model_pb2, registry_pb2, registry_pb2_grpc
from kiln_sdk.errors import KilnError, from_rpc_error

ModelVersion = model_pb2.ModelVersion
Model = model_pb2.Model

#: Bytes per upload message. Well under the server's 64 MiB message limit; large enough to keep per-message overhead
#: small.
CHUNK_BYTES = 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: progress(bytes_sent, total): total is the upload's size when known (a file), or the sum of the files' sizes for a
#: directory (the tar adds headers on top).
ProgressCallback = Callable[[int, Optional[int]], None]

_STATUS_NAMES = {name[len("MODEL_VERSION_STATUS_"):]: value for name, value in model_pb2.ModelVersionStatus.items()}


@dataclass(frozen=True)
class StatusEvent:
    """The version as it is now: first event of a watch, then one after every status change."""

    version: model_pb2.ModelVersion


@dataclass(frozen=True)
class LogEvent:
    """One line of the version's build log."""

    number: int
    line: str


WatchEvent = Union[StatusEvent, LogEvent]


class Client:
    """A connection to a Kiln registry (`host:port`, plaintext). Use as a context manager or call close()."""

    def __init__(self, address: str, *, timeout: Optional[float] = None, channel: Optional[grpc.Channel] = None):
        self.address = address
        #: Deadline in seconds for unary calls (None: no deadline). Streams (upload, download, watch) have none.
        self.timeout = timeout
        self._channel = channel or grpc.insecure_channel(
            address,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        self._stub = registry_pb2_grpc.RegistryStub(self._channel)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected; raises Unavailable after `timeout` seconds."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            from kiln_sdk.errors import Unavailable

            raise Unavailable(f"no Kiln registry answered at {self.address} within {timeout}s") from None

    # -- uploads ---------------------------------------------------------------------------------------------------

    def upload(
        self,
        path: Union[str, os.PathLike],
        name: str,
        labels: Optional[Dict[str, str]] = None,
        metadata: Optional[Dict[str, str]] = None,
        manifest: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> model_pb2.ModelVersion:
        """Uploads a directory (streamed as a tar built on the fly), a .tar/.tar.gz archive, or a single file as a new
        version of model `name`, and returns the version. Memory use does not grow with the model's size."""
        path = os.fspath(path)
        info = os.stat(path)
        lower = path.lower()
        if stat.S_ISDIR(info.st_mode):
            fmt, file_name, expected = model_pb2.ARCHIVE_FORMAT_TAR, "", 0
            total: Optional[int] = sum(size for _, _, size, _ in _walk(path))
            body: Iterator[bytes] = _tar_directory(path)
        else:
            if lower.endswith((".tar.gz", ".tgz")):
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_TAR_GZ, ""
            elif lower.endswith(".tar"):
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_TAR, ""
            else:
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_FILE, os.path.basename(path)
            expected = total = info.st_size
            body = _read_file(path)
        header = registry_pb2.UploadHeader(
            model=name,
            manifest=manifest or "",
            labels=labels or {},
            metadata=metadata or {},
            format=fmt,
            file_name=file_name,
            expected_size=expected,
        )

        def requests() -> Iterator[registry_pb2.UploadModelRequest]:
            yield registry_pb2.UploadModelRequest(header=header)
            sent = 0
            try:
                for chunk in body:
                    yield registry_pb2.UploadModelRequest(chunk=chunk)
                    sent += len(chunk)
                    if progress:
                        progress(sent, total)
            finally:
                # Ends the tar writer's thread when the call stops early.
                close = getattr(body, "close", None)
                if close:
                    close()

        return self._call(self._stub.UploadModel, requests(), timeout=None)

    # -- reading ---------------------------------------------------------------------------------------------------

    def get(self, name: str, version: int = 0) -> model_pb2.ModelVersion:
        """One version; version 0 is the newest that is not deleted."""
        return self._call(self._stub.GetModelVersion, registry_pb2.GetModelVersionRequest(model=name, version=version))

    def list_models(self, name_prefix: str = "", page_size: int = 0) -> Iterator[model_pb2.Model]:
        """Every model (whose name starts with `name_prefix`), sorted by name, fetched page by page as iterated."""
        token = ""
        while True:
            page = self._call(
                self._stub.ListModels,
                registry_pb2.ListModelsRequest(page_size=page_size, page_token=token, name_prefix=name_prefix),
            )
            yield from page.models
            token = page.next_page_token
            if not token:
                return

    def list_versions(
        self,
        name: str,
        statuses: Optional[Sequence[Union[str, int]]] = None,
        labels: Optional[Dict[str, str]] = None,
        page_size: int = 0,
    ) -> Iterator[model_pb2.ModelVersion]:
        """A model's versions, newest first, fetched page by page as iterated. `statuses` are names ("RELEASED") or
        ModelVersionStatus values; empty means every status but DELETED."""
        wanted = [_STATUS_NAMES[s.upper()] if isinstance(s, str) else s for s in (statuses or [])]
        token = ""
        while True:
            page = self._call(
                self._stub.ListModelVersions,
                registry_pb2.ListModelVersionsRequest(
                    model=name, page_size=page_size, page_token=token, statuses=wanted, labels=labels or {}
                ),
            )
            yield from page.versions
            token = page.next_page_token
            if not token:
                return

    def watch(self, name: str, version: int = 0) -> Iterator[WatchEvent]:
        """Status changes and build log lines of a version until it is final (RELEASED, FAILED or DELETED). Closing
        the generator early cancels the stream."""
        call = self._stub.WatchModelVersion(registry_pb2.WatchModelVersionRequest(model=name, version=version))
        try:
            for event in call:
                kind = event.WhichOneof("event")
                if kind == "version":
                    yield StatusEvent(event.version)
                elif kind == "log":
                    yield LogEvent(event.log.number, event.log.line)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        finally:
            call.cancel()

    def download(
        self,
        name: str,
        version: int,
        dest: Union[str, os.PathLike, BinaryIO],
        paths: Optional[Sequence[str]] = None,
    ) -> Union[str, BinaryIO]:
        """Downloads a version's files. `dest` is a directory to extract into (created if missing), a path ending in
        .tar to write the archive to, or a writable binary file object that receives the archive."""
        call = self._stub.DownloadModelVersion(
            registry_pb2.DownloadModelVersionRequest(model=name, version=version, paths=list(paths or []))
        )
        chunks = _chunks(call)
        try:
            if hasattr(dest, "write"):
                for chunk in chunks:
                    dest.write(chunk)  # type: ignore[union-attr]
                return dest  # type: ignore[return-value]
            dest = os.fspath(dest)  # type: ignore[arg-type]
            if dest.lower().endswith(".tar"):
                with open(dest, "wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
                return dest
            os.makedirs(dest, exist_ok=True)
            with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as archive:
                for member in archive:
                    _extract(archive, member, dest)
            return dest
        finally:
            call.cancel()

    def delete(self, name: str, version: int) -> model_pb2.ModelVersion:
        """Deletes a version; returns it with status DELETED."""
        return self._call(
            self._stub.DeleteModelVersion, registry_pb2.DeleteModelVersionRequest(model=name, version=version)
        )

    def _call(self, method, request, timeout: Optional[float] = -1.0):
        try:
            return method(request, timeout=self.timeout if timeout == -1.0 else timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None


# -- helpers ---------------------------------------------------------------------------------------------------------


def _chunks(call) -> Iterator[bytes]:
    try:
        for response in call:
            yield response.chunk
    except grpc.RpcError as err:
        raise from_rpc_error(err) from None


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, dest: str) -> None:
    # The server writes only regular files with relative paths; the 'data' filter (Python 3.12, backported to
    # 3.8.17+/3.11.4+) enforces that anyway.
    if hasattr(tarfile, "data_filter"):
        archive.extract(member, dest, filter="data")
        return
    target = os.path.realpath(os.path.join(dest, member.name))
    if not member.isfile() or not target.startswith(os.path.realpath(dest) + os.sep):
        raise KilnError(f"unsafe archive member {member.name!r}")
    archive.extract(member, dest)


def _read_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                return
            yield chunk


def _walk(root: str) -> List[tuple]:
    """The directory's regular files as (relative path, absolute path, size, mode), sorted by path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fname in sorted(filenames):
            abs_path = os.path.join(dirpath, fname)
            info = os.lstat(abs_path)
            if stat.S_ISREG(info.st_mode):
                rel = os.path.relpath(abs_path, root).replace(os.sep, "/")
                found.append((rel, abs_path, info.st_size, info.st_mode))
    found.sort(key=lambda f: f[0])
    return found


class _TarStream:
    """A tar of a directory's regular files, written by tarfile in stream mode on a thread into a pipe and read back
    here in chunks: memory stays at a chunk plus the pipe's buffer, whatever the model's size."""

    def __init__(self, root: str):
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._write, args=(root, write_fd), daemon=True)
        self._thread.start()

    def _write(self, root: str, write_fd: int) -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                    for rel, abs_path, size, mode in _walk(root):
                        info = tarfile.TarInfo(rel)
                        info.size = size
                        info.mode = 0o755 if mode & 0o111 else 0o644
                        info.mtime = 0
                        with open(abs_path, "rb") as f:
                            archive.addfile(info, f)
        except BrokenPipeError:
            pass  # the reader went away (the upload stopped): nothing more to do
        except BaseException as err:  # noqa: BLE001 - handed to the reading side
            self._error = err

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = self._reader.read(CHUNK_BYTES)
        if chunk:
            # A pipe read returns what is there (often 64 KiB): fill up to a chunk to keep messages few.
            parts = [chunk]
            size = len(chunk)
            while size < CHUNK_BYTES:
                more = self._reader.read(CHUNK_BYTES - size)
                if not more:
                    break
                parts.append(more)
                size += len(more)
            return b"".join(parts)
        self._thread.join()
        if self._error:
            raise self._error
        raise StopIteration

    def close(self) -> None:
        self._reader.close()
        self._thread.join(timeout=10)


def _tar_directory(root: str) -> Iterator[bytes]:
    return _TarStream(root)


__all__ = ["Client", "StatusEvent", "LogEvent", "WatchEvent", "ModelVersion", "Model", "CHUNK_BYTES"]
