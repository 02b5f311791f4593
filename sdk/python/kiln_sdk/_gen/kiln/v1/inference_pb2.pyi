from kiln_sdk._gen.kiln.v1 import contract_pb2 as _contract_pb2
from kiln_sdk._gen.kiln.v1 import model_pb2 as _model_pb2
from kiln_sdk._gen.kiln.v1 import registry_pb2 as _registry_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InferContractRequest(_message.Message):
    __slots__ = ("model_version", "path", "stored_files", "manifest")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    STORED_FILES_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    model_version: ModelVersionReference
    path: str
    stored_files: StoredFiles
    manifest: str
    def __init__(self, model_version: _Optional[_Union[ModelVersionReference, _Mapping]] = ..., path: _Optional[str] = ..., stored_files: _Optional[_Union[StoredFiles, _Mapping]] = ..., manifest: _Optional[str] = ...) -> None: ...

class ModelVersionReference(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class StoredFiles(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelFile]
    def __init__(self, files: _Optional[_Iterable[_Union[_model_pb2.ModelFile, _Mapping]]] = ...) -> None: ...

class InferContractFromUploadRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _registry_pb2.UploadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[_registry_pb2.UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class InferContractResponse(_message.Message):
    __slots__ = ("contract", "metadata", "format")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    contract: _contract_pb2.Contract
    metadata: _containers.ScalarMap[str, str]
    format: str
    def __init__(self, contract: _Optional[_Union[_contract_pb2.Contract, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., format: _Optional[str] = ...) -> None: ...
