"""A thin Python client for the kiln.v1.Registry API: uploads that stream in constant memory, paged lists as
generators, watch and download streams, and typed errors."""
from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import grpc

from kiln_sdk._gen.kiln.v1 import aliases_pb2, model_pb2, registry_pb2, registry_pb2_grpc
from kiln_sdk.errors import KilnError, from_rpc_error

ModelVersion = model_pb2.ModelVersion
Model = model_pb2.Model
#: The status enum: ModelVersionStatus.Name(v.status) == "MODEL_VERSION_STATUS_RELEASED".
ModelVersionStatus = model_pb2.ModelVersionStatus

#: Bytes per upload message. Well under the server's 64 MiB message limit; large enough to keep per-message overhead
#: small.
CHUNK_BYTES = 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: progress(bytes_sent, total): bytes of file content sent so far and their total (the file's size, or the sum of a
#: directory's file sizes; tar headers are not counted), so the last call has bytes_sent == total.
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


def _bearer_metadata(token: Optional[str]) -> tuple:
    """The call metadata that carries a bearer token: none without one."""
    if not token:
        return ()
    if token != token.strip() or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise ValueError("token: spaces, control or non-ASCII characters cannot be in a bearer token")
    return (("authorization", f"Bearer {token}"),)


def _tls_credentials(ca, cert, key) -> grpc.ChannelCredentials:
    if (cert is None) != (key is None):
        raise ValueError("cert and key go together (a client certificate and its key)")

    def read(path):
        if path is None:
            return None
        with open(path, "rb") as f:
            return f.read()

    return grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(key), certificate_chain=read(cert))


class Client:
    """A connection to a Kiln registry (`host:port`): plaintext, or TLS with `ca` (a PEM CA file the registry's
    certificate is checked against) or `tls=True` (the system's roots), plus `cert` and `key` (PEM files of a client
    certificate) for a registry that requires one (mTLS). `token` (a Kiln API token or an OIDC token) is sent as
    `authorization: Bearer <token>` with every call, plaintext included (for loopback; anywhere else use TLS, or the
    token travels in the clear). Use as a context manager or call close()."""

    def __init__(
        self,
        address: str,
        *,
        timeout: Optional[float] = None,
        channel: Optional[grpc.Channel] = None,
        ca: Optional[Union[str, os.PathLike]] = None,
        cert: Optional[Union[str, os.PathLike]] = None,
        key: Optional[Union[str, os.PathLike]] = None,
        tls: bool = False,
        token: Optional[str] = None,
    ):
        self.address = address
        # Per-call metadata rather than grpc's call credentials: those need a secure channel, and a token is also
        # meant for a registry on loopback without TLS (as the kiln CLI sends it).
        self._metadata = _bearer_metadata(token)
        #: Deadline in seconds for unary calls (None: no deadline). Streams (upload, download, watch) have none.
        self.timeout = timeout
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ]
        if channel is None and (tls or ca or cert or key):
            channel = grpc.secure_channel(address, _tls_credentials(ca, cert, key), options=options)
        self._channel = channel or grpc.insecure_channel(address, options=options)
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
        version of model `name`, and returns the version. Memory use does not grow with the model's size.

        In a directory, a symlink uploads what it points to under the link's path (a linked folder is followed unless
        that would loop); broken links, loops and special files are skipped with a SkippedFileWarning. An error
        reading the files or raised by `progress` ends the upload and is raised as itself (the registry keeps
        nothing of the upload)."""
        path = os.fspath(path)
        info = os.stat(path)
        lower = path.lower()
        if stat.S_ISDIR(info.st_mode):
            fmt, file_name, expected = model_pb2.ARCHIVE_FORMAT_TAR, "", 0
            files = _walk(path)
            total: int = sum(size for _, _, size, _ in files)
            tar = _TarStream(files)
            body: Iterator[bytes] = tar
            payload: Callable[[int], int] = lambda _sent: tar.payload_bytes
        else:
            if lower.endswith((".tar.gz", ".tgz")):
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_TAR_GZ, ""
            elif lower.endswith(".tar"):
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_TAR, ""
            else:
                fmt, file_name = model_pb2.ARCHIVE_FORMAT_FILE, os.path.basename(path)
            expected = total = info.st_size
            body = _read_file(path)
            payload = lambda sent: sent
        header = registry_pb2.UploadHeader(
            model=name,
            manifest=manifest or "",
            labels=labels or {},
            metadata=metadata or {},
            format=fmt,
            file_name=file_name,
            expected_size=expected,
        )

        # grpc turns an exception raised while it iterates the requests into UNKNOWN "Exception iterating requests!":
        # the generator keeps it so the caller gets the real one.
        local_error: List[Exception] = []

        def requests() -> Iterator[registry_pb2.UploadModelRequest]:
            yield registry_pb2.UploadModelRequest(header=header)
            sent = reported = 0
            try:
                for chunk in body:
                    yield registry_pb2.UploadModelRequest(chunk=chunk)
                    sent += len(chunk)
                    done = payload(sent)
                    if progress and done > reported:
                        reported = done
                        progress(done, total)
            except Exception as err:
                local_error.append(err)
                raise
            finally:
                # Ends the tar writer's thread when the call stops early.
                close = getattr(body, "close", None)
                if close:
                    close()

        try:
            return self._call(self._stub.UploadModel, requests(), timeout=None)
        except KilnError as err:
            if local_error:
                raise local_error[0] from err
            raise

    # -- reading ---------------------------------------------------------------------------------------------------

    def get(self, name: str, version: int = 0, alias: str = "") -> model_pb2.ModelVersion:
        """One version; version 0 is the newest that is not deleted, or the one `alias` ("production") points at."""
        return self._call(
            self._stub.GetModelVersion, registry_pb2.GetModelVersionRequest(model=name, version=version, alias=alias)
        )

    def list_models(self, name_prefix: str = "", page_size: int = 0, namespace: str = "") -> Iterator[model_pb2.Model]:
        """Every model (whose name starts with `name_prefix`; of one `namespace`, "default" holding the names without
        a slash), sorted by name, fetched page by page as iterated."""
        token = ""
        while True:
            page = self._call(
                self._stub.ListModels,
                registry_pb2.ListModelsRequest(
                    page_size=page_size, page_token=token, name_prefix=name_prefix, namespace=namespace
                ),
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

    def watch(self, name: str, version: int = 0, alias: str = "") -> Iterator[WatchEvent]:
        """Status changes and build log lines of a version (or of the one `alias` points at) until it is final
        (RELEASED, FAILED or DELETED). Closing the generator early cancels the stream."""
        call = self._stub.WatchModelVersion(
            registry_pb2.WatchModelVersionRequest(model=name, version=version, alias=alias), metadata=self._metadata
        )
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
        alias: str = "",
    ) -> Union[str, BinaryIO]:
        """Downloads a version's files. `dest` is a directory to extract into (created if missing), a path ending in
        .tar to write the archive to, or a writable binary file object that receives the archive. A download to a path
        goes to a temporary file or folder beside it first, moved into place only once complete: a failed download
        leaves no partial files behind. With `alias` (version 0), the version the alias points at."""
        call = self._stub.DownloadModelVersion(
            registry_pb2.DownloadModelVersionRequest(model=name, version=version, paths=list(paths or []), alias=alias),
            metadata=self._metadata,
        )
        chunks = _chunks(call)
        try:
            if hasattr(dest, "write"):
                for chunk in chunks:
                    dest.write(chunk)  # type: ignore[union-attr]
                return dest  # type: ignore[return-value]
            dest = os.path.abspath(os.fspath(dest))  # type: ignore[arg-type]
            parent = os.path.dirname(dest)
            os.makedirs(parent, exist_ok=True)
            staging = f".{os.path.basename(dest)}.kiln-"
            if dest.lower().endswith(".tar"):
                fd, tmp = tempfile.mkstemp(dir=parent, prefix=staging)
                try:
                    with os.fdopen(fd, "wb") as out:
                        for chunk in chunks:
                            out.write(chunk)
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, dest)
                except BaseException:
                    os.unlink(tmp)
                    raise
                return dest
            tmp = tempfile.mkdtemp(dir=parent, prefix=staging)
            try:
                with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as archive:
                    for member in archive:
                        _extract(archive, member, tmp)
                _move_tree(tmp, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return dest
        finally:
            call.cancel()

    def delete(self, name: str, version: int) -> model_pb2.ModelVersion:
        """Deletes a version; returns it with status DELETED."""
        return self._call(
            self._stub.DeleteModelVersion, registry_pb2.DeleteModelVersionRequest(model=name, version=version)
        )

    # -- aliases -----------------------------------------------------------------------------------------------

    def set_alias(
        self, name: str, alias: str, version: int, protected: bool = False, allow_breaking_changes: bool = False, reason: str = ""
    ) -> aliases_pb2.ModelAlias:
        """Points `alias` at a released version (its image tag follows); `protected` is the alias's protection after
        the call (changing it, or moving a protected alias, takes admin)."""
        return self._call(
            self._stub.SetModelAlias,
            aliases_pb2.SetModelAliasRequest(
                model=name, alias=alias, version=version, protected=protected,
                allow_breaking_changes=allow_breaking_changes, reason=reason,
            ),
        )

    def delete_alias(self, name: str, alias: str, reason: str = "") -> aliases_pb2.ModelAlias:
        """Deletes an alias (its history stays); returns it as it was."""
        return self._call(self._stub.DeleteModelAlias, aliases_pb2.DeleteModelAliasRequest(model=name, alias=alias, reason=reason))

    def list_aliases(self, name: str) -> List[aliases_pb2.ModelAlias]:
        """A model's aliases, by name."""
        return list(self._call(self._stub.ListModelAliases, aliases_pb2.ListModelAliasesRequest(model=name)).aliases)

    def _call(self, method, request, timeout: Optional[float] = -1.0):
        try:
            return method(request, timeout=self.timeout if timeout == -1.0 else timeout, metadata=self._metadata)
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


def _move_tree(src: str, dest: str) -> None:
    """Moves a finished download into place: the whole folder when dest does not exist, else file by file (each an
    atomic rename, replacing a file of the same path)."""
    if not os.path.exists(dest):
        os.chmod(src, 0o755)
        os.rename(src, dest)
        return
    for dirpath, _, filenames in os.walk(src):
        for fname in filenames:
            rel = os.path.relpath(os.path.join(dirpath, fname), src)
            target = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(dirpath, fname), target)


def _read_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                return
            yield chunk


class SkippedFileWarning(UserWarning):
    """A directory upload left out a broken symlink, a symlink loop or a special file (fifo, socket, device)."""


def _walk(root: str) -> List[tuple]:
    """The directory's files as (relative path, absolute path, size, mode), sorted by path, as the kiln CLI sees them:
    a symlink counts as what it points to (so a Hugging Face snapshot, every file a link into ../blobs, uploads its
    content under the links' names) and a linked folder is followed unless it encloses the link; broken links, loops
    and special files are skipped with a SkippedFileWarning."""
    found = []

    def skip(abs_path: str, why: str) -> None:
        warnings.warn(f"kiln: skipping {abs_path}: {why}", SkippedFileWarning, stacklevel=4)

    def visit(rel: str, enclosing: List[str]) -> None:
        with os.scandir(os.path.join(root, rel) if rel else root) as entries:
            listed = sorted(entries, key=lambda e: e.name)
        for entry in listed:
            name = f"{rel}/{entry.name}" if rel else entry.name
            try:
                info = os.stat(entry.path)  # through symlinks
            except OSError as err:
                if err.errno not in (errno.ENOENT, errno.ELOOP):
                    raise
                target = os.readlink(entry.path) if entry.is_symlink() else "?"
                skip(entry.path, f"is a {'symlink loop' if err.errno == errno.ELOOP else 'broken symlink'} (-> {target})")
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((name, entry.path, info.st_size, info.st_mode))
            elif stat.S_ISDIR(info.st_mode):
                real = os.path.realpath(entry.path)
                if real in enclosing:
                    skip(entry.path, f"is a symlink to {real}, a folder that contains it: following it would loop")
                else:
                    visit(name, enclosing + [real])
            else:
                skip(entry.path, "is a special file (fifo, socket or device), not a regular file")

    visit("", [os.path.realpath(root)])
    found.sort(key=lambda f: f[0])
    return found


class _CountingFile:
    """A file read by tarfile that adds what it reads to its tar stream's payload count."""

    def __init__(self, f: BinaryIO, stream: "_TarStream"):
        self._f = f
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self._stream.payload_bytes += len(data)
        return data


class _TarStream:
    """A tar of a directory's files, written by tarfile in stream mode on a thread into a pipe and read back here in
    chunks: memory stays at a chunk plus the pipe's buffer, whatever the model's size. payload_bytes counts the file
    content written so far (ahead of what was read back by at most the pipe's buffer)."""

    def __init__(self, files: List[tuple]):
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._error: Optional[BaseException] = None
        self.payload_bytes = 0
        self._thread = threading.Thread(target=self._write, args=(files, write_fd), daemon=True)
        self._thread.start()

    def _write(self, files: List[tuple], write_fd: int) -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                    for rel, abs_path, size, mode in files:
                        info = tarfile.TarInfo(rel)
                        info.size = size
                        info.mode = 0o755 if mode & 0o111 else 0o644
                        info.mtime = 0
                        with open(abs_path, "rb") as f:
                            # tarfile copies exactly `size` bytes and raises if the file has shrunk since listed.
                            archive.addfile(info, _CountingFile(f, self))
                            if f.read(1):
                                raise OSError(f"{abs_path} grew while being uploaded (listed at {size} bytes)")
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


__all__ = [
    "Client", "StatusEvent", "LogEvent", "WatchEvent", "ModelVersion", "ModelVersionStatus", "Model", "CHUNK_BYTES",
    "SkippedFileWarning",
]
