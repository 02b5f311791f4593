"""The Python SDK against a live Kiln: uploads of real model files (ONNX file, SavedModel directory), their versions,
contracts and byte-identical downloads; paging; watch; delete; errors by code."""
import hashlib
import io
import os
import pathlib
import tarfile
import tracemalloc

import pytest

import kiln_sdk
from kiln_sdk import Client, FailedPrecondition, InvalidArgument, KilnError, LogEvent, NotFound, SkippedFileWarning, StatusEvent, Unavailable
from kiln_sdk._gen.kiln.v1 import model_pb2

RELEASED = model_pb2.MODEL_VERSION_STATUS_RELEASED
DELETED = model_pb2.MODEL_VERSION_STATUS_DELETED


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: pathlib.Path) -> dict:
    """Relative path -> bytes for every regular file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_uploading_an_onnx_file_gives_version_1_with_its_contract_and_downloads_byte_identical(client, fixtures, model_name, tmp_path):
    onnx = fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx"
    calls = []
    v = client.upload(onnx, model_name, labels={"team": "vision"}, metadata={"origin": "pytest"},
                      progress=lambda sent, total: calls.append((sent, total)))
    assert v.model == model_name and v.version == 1
    assert [(f.path, f.size, f.sha256) for f in v.files] == [("mnist.onnx", onnx.stat().st_size, sha256(onnx))]
    assert v.labels["team"] == "vision" and v.metadata["origin"] == "pytest"
    assert v.metadata["onnx.producer_name"] == "CNTK"
    assert v.contract.source == "onnx"
    sig = v.contract.signatures[0]
    assert [i.name for i in sig.inputs] == ["Input73"]
    assert [d.size for d in sig.inputs[0].tensor.shape.dims] == [1, 1, 28, 28]
    assert sig.inputs[0].tensor.dtype == kiln_sdk.client.model_pb2.DataType.Value("DATA_TYPE_FLOAT") if hasattr(model_pb2, "DataType") else True
    assert [o.name for o in sig.outputs] == ["Plus422_Output_0"]
    assert calls and calls[-1] == (onnx.stat().st_size, onnx.stat().st_size)

    got = client.get(model_name, 1)
    assert got.contract == v.contract and got.files == v.files
    assert client.get(model_name).version == 1  # version 0: the newest

    out = client.download(model_name, 1, tmp_path / "out")
    assert (pathlib.Path(out) / "mnist.onnx").read_bytes() == onnx.read_bytes()


def test_uploading_a_savedmodel_directory_streams_a_tar_and_downloads_every_file_byte_identical(client, fixtures, model_name, tmp_path):
    src = fixtures / "tf-serving" / "saved_model_half_plus_two_cpu" / "00000123"
    v = client.upload(src, model_name)
    assert v.version == 1
    expected = tree(src)
    assert {f.path: f.sha256 for f in v.files} == {p: hashlib.sha256(b).hexdigest() for p, b in expected.items()}
    assert v.contract.source == "savedmodel"
    names = [s.name for s in v.contract.signatures]
    assert "serving_default" in names
    serving = next(s for s in v.contract.signatures if s.name == "serving_default")
    assert serving.method == "tensorflow/serving/predict"
    assert [i.name for i in serving.inputs] == ["x"] and [o.name for o in serving.outputs] == ["y"]

    second = client.upload(src, model_name)
    assert second.version == 2

    dest = tmp_path / "download"
    client.download(model_name, 2, dest)
    assert tree(dest) == expected

    # The same bytes as a .tar file and into a file object.
    tar_path = client.download(model_name, 1, tmp_path / "v1.tar")
    with tarfile.open(tar_path) as archive:
        assert sorted(m.name for m in archive.getmembers()) == sorted(expected)
    buf = io.BytesIO()
    client.download(model_name, 1, buf, paths=["saved_model.pb"])
    buf.seek(0)
    with tarfile.open(fileobj=buf) as archive:
        assert archive.extractfile("saved_model.pb").read() == expected["saved_model.pb"]


def test_a_large_directory_uploads_in_constant_memory_with_progress(client, model_name, tmp_path):
    src = tmp_path / "big"
    (src / "nested" / "deeper").mkdir(parents=True)
    block = os.urandom(1024 * 1024)
    with open(src / "nested" / "deeper" / "weights.bin", "wb") as f:
        for i in range(24):  # 24 MiB: many upload chunks
            f.write(block[i:] + block[:i])
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(src / "run.sh", 0o755)
    (src / ("a-long-name-" + "x" * 120 + ".txt")).write_text("pax header for a path over 100 bytes")
    seen = []
    tracemalloc.start()
    try:
        v = client.upload(src, model_name, progress=lambda sent, total: seen.append((sent, total)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The whole tar is over 24 MiB; Python never held more than a few chunks of it.
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak} bytes"
    # Progress counts file content, not tar headers: it ends exactly at the files' total.
    total = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    assert len(seen) >= 20 and seen[-1] == (total, total)
    assert all(b[0] > a[0] and b[1] == total for a, b in zip(seen, seen[1:]))
    files = {f.path: f for f in v.files}
    assert files["nested/deeper/weights.bin"].size == 24 * 1024 * 1024
    assert files["nested/deeper/weights.bin"].sha256 == sha256(src / "nested" / "deeper" / "weights.bin")
    assert files["run.sh"].executable and not files["nested/deeper/weights.bin"].executable
    assert ("a-long-name-" + "x" * 120 + ".txt") in files
    dest = tmp_path / "back"
    client.download(model_name, v.version, dest)
    assert tree(dest) == tree(src)


def test_list_models_and_list_versions_iterate_every_page(client, fixtures, model_name):
    onnx = fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx"
    names = [f"{model_name}-{i}" for i in range(3)]
    for name in names:
        client.upload(onnx, name)
    for _ in range(4):
        client.upload(onnx, names[0], labels={"stage": "dev"})
    listed = list(client.list_models(name_prefix=model_name, page_size=1))
    assert [m.name for m in listed] == sorted(names)
    first = next(m for m in listed if m.name == names[0])
    assert first.latest_version == 5 and first.version_count == 5
    client.upload(onnx, f"{model_name}/model")
    assert [m.name for m in client.list_models(namespace=model_name)] == [f"{model_name}/model"]
    assert names[0] in [m.name for m in client.list_models(namespace="default")]

    versions = list(client.list_versions(names[0], page_size=2))
    assert [v.version for v in versions] == [5, 4, 3, 2, 1]
    assert [v.version for v in client.list_versions(names[0], labels={"stage": "dev"}, page_size=3)] == [5, 4, 3, 2]
    # The generator fetches lazily: taking one item makes one call and leaves the rest.
    assert next(iter(client.list_versions(names[0], page_size=1))).version == 5


def test_watch_streams_status_and_build_log_until_released(client, fixtures, model_name):
    v = client.upload(fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx", model_name)
    events = list(client.watch(model_name, v.version))
    assert isinstance(events[0], StatusEvent) and events[0].version.version == v.version
    statuses = [e.version.status for e in events if isinstance(e, StatusEvent)]
    logs = [e for e in events if isinstance(e, LogEvent)]
    assert statuses[-1] == RELEASED, (statuses, [e.line for e in logs])
    assert client.get(model_name, v.version).image_digest.startswith("sha256:")
    # The build log came through the stream, in order.
    assert logs, "no build log line was streamed"
    assert [e.number for e in logs] == sorted(set(e.number for e in logs))
    assert all(e.line for e in logs)


def test_an_error_on_the_client_side_of_an_upload_is_raised_as_itself_and_nothing_is_kept(client, model_name, tmp_path):
    src = tmp_path / "model"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    (src / "z.bin").write_bytes(b"z" * 1000)

    def broken_progress(sent, total):
        raise ValueError("progress display broke")

    with pytest.raises(ValueError, match="progress display broke") as info:
        client.upload(src, model_name, progress=broken_progress)
    assert isinstance(info.value.__cause__, KilnError)

    # A file that disappears after the listing (removed while a.bin is on its way): the tar writer's error.
    with pytest.raises(FileNotFoundError) as info:
        client.upload(src, model_name, progress=lambda sent, total: (src / "z.bin").unlink(missing_ok=True))
    assert "z.bin" in str(info.value)
    # One that grows after the listing: sending the listed size would upload a torn file.
    (src / "z.bin").write_bytes(b"z" * 1000)
    with pytest.raises(OSError, match="z.bin grew while being uploaded"):
        client.upload(src, model_name, progress=lambda sent, total: (src / "z.bin").write_bytes(b"z" * 2000))
    with pytest.raises(NotFound):
        list(client.list_versions(model_name))


def test_directory_uploads_follow_symlinks_to_files_and_folders_and_skip_broken_ones(client, model_name, tmp_path):
    outside = tmp_path / "blobs"
    outside.mkdir()
    (outside / "weights").write_bytes(b"weights through a link")
    (outside / "sub").mkdir()
    (outside / "sub" / "vocab.txt").write_text("a\nb\n")
    src = tmp_path / "snapshot"
    src.mkdir()
    (src / "config.json").write_text("{}")
    os.symlink(outside / "weights", src / "model.bin")
    os.symlink(outside / "sub", src / "tokenizer")
    os.symlink(src / "absent", src / "broken")
    os.symlink(src, src / "loop")
    with pytest.warns(SkippedFileWarning) as warned:
        v = client.upload(src, model_name)
    assert {f.path: f.size for f in v.files} == {"config.json": 2, "model.bin": 22, "tokenizer/vocab.txt": 4}
    messages = sorted(str(w.message) for w in warned)
    assert len(messages) == 2 and "broken symlink" in messages[0] and "would loop" in messages[1], messages
    dest = tmp_path / "back"
    client.download(model_name, v.version, dest)
    assert tree(dest) == {"config.json": b"{}", "model.bin": b"weights through a link", "tokenizer/vocab.txt": b"a\nb\n"}


def test_a_failed_download_leaves_no_partial_files(client, fixtures, model_name, tmp_path):
    client.upload(fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx", model_name)
    with pytest.raises(NotFound):
        client.download(model_name, 7, tmp_path / "out")
    with pytest.raises(NotFound):
        client.download(model_name, 7, tmp_path / "v7.tar")
    with pytest.raises(NotFound):
        client.download(model_name, 1, tmp_path / "some", paths=["no-such-file"])
    assert list(tmp_path.iterdir()) == []
    # Into a folder that has other files: they stay, the version's files join them.
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "mine.txt").write_text("mine")
    client.download(model_name, 1, tmp_path / "keep")
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["mine.txt", "mnist.onnx"]
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]


def test_delete_marks_the_version_deleted_and_get_then_raises_not_found(client, fixtures, model_name):
    onnx = fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx"
    client.upload(onnx, model_name)
    client.upload(onnx, model_name)
    deleted = client.delete(model_name, 2)
    assert deleted.status == DELETED and deleted.HasField("delete_time")
    with pytest.raises(NotFound):
        client.get(model_name, 2)
    assert client.get(model_name).version == 1  # the newest that is not deleted
    with pytest.raises(NotFound) as info:
        client.delete(model_name, 2)
    assert "already deleted" in str(info.value)
    # A deleted version is gone for watchers too: the stream ends with NOT_FOUND.
    with pytest.raises(NotFound):
        list(client.watch(model_name, 2))
    assert [v.version for v in client.list_versions(model_name)] == [1]


def test_errors_are_typed_by_grpc_code(client, fixtures, model_name):
    with pytest.raises(NotFound) as info:
        client.get(model_name)
    assert isinstance(info.value, KilnError) and model_name in info.value.message
    with pytest.raises(InvalidArgument) as bad:
        client.get("Not A Valid Name")
    assert "model name" in str(bad.value)
    with pytest.raises(InvalidArgument):
        client.upload(fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx", "UPPER")
    with pytest.raises(NotFound):
        list(client.list_versions(model_name))
    with pytest.raises(NotFound):
        client.download(model_name, 1, io.BytesIO())


def test_a_server_that_is_not_there_raises_unavailable():
    with Client("127.0.0.1:1", timeout=5) as nobody:
        with pytest.raises(Unavailable):
            nobody.get("anything")


def test_every_grpc_error_code_has_its_own_class():
    import grpc

    from kiln_sdk.errors import _BY_CODE, DataLoss, OutOfRange

    assert set(_BY_CODE) == {c for c in grpc.StatusCode if c != grpc.StatusCode.OK}
    assert _BY_CODE[grpc.StatusCode.OUT_OF_RANGE] is OutOfRange and _BY_CODE[grpc.StatusCode.DATA_LOSS] is DataLoss


def test_an_alias_is_set_read_moved_and_deleted_and_guards_its_version(client, fixtures, model_name, tmp_path):
    one = client.upload(fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx", model_name)
    two = client.upload(fixtures / "hydrosphere" / "onnx_mnist" / "mnist.onnx", model_name)
    for v in (one, two):
        assert [e.version.status for e in client.watch(model_name, v.version) if isinstance(e, StatusEvent)][-1] == RELEASED
    alias = client.set_alias(model_name, "production", one.version, reason="launch")
    assert (alias.alias, alias.version) == ("production", one.version)
    assert client.get(model_name, alias="production").version == one.version
    assert list(client.get(model_name, one.version).aliases) == ["production"]
    with pytest.raises(FailedPrecondition, match=f"{model_name}@production"):
        client.delete(model_name, one.version)
    client.set_alias(model_name, "production", two.version)
    assert [a.version for a in client.list_aliases(model_name)] == [two.version]
    assert client.download(model_name, 0, tmp_path / "prod", alias="production") == str(tmp_path / "prod")
    assert (tmp_path / "prod" / "mnist.onnx").stat().st_size > 0
    statuses = [e.version.version for e in client.watch(model_name, alias="production") if isinstance(e, StatusEvent)]
    assert statuses and set(statuses) == {two.version}
    assert client.delete_alias(model_name, "production").version == two.version
    assert client.list_aliases(model_name) == []
