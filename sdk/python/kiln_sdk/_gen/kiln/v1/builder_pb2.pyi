import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from kiln_sdk._gen.kiln.v1 import registry_pb2 as _registry_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BuildModelVersionRequest(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class BuildModelVersionResponse(_message.Message):
    __slots__ = ("log", "result")
    LOG_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    log: _registry_pb2.BuildLogLine
    result: BuildResult
    def __init__(self, log: _Optional[_Union[_registry_pb2.BuildLogLine, _Mapping]] = ..., result: _Optional[_Union[BuildResult, _Mapping]] = ...) -> None: ...

class BuildResult(_message.Message):
    __slots__ = ("image_reference", "image_digest", "start_time", "end_time")
    IMAGE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    image_reference: str
    image_digest: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, image_reference: _Optional[str] = ..., image_digest: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TagModelVersionRequest(_message.Message):
    __slots__ = ("model", "version", "tag", "image_reference", "image_digest")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    tag: str
    image_reference: str
    image_digest: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., tag: _Optional[str] = ..., image_reference: _Optional[str] = ..., image_digest: _Optional[str] = ...) -> None: ...

class TagModelVersionResponse(_message.Message):
    __slots__ = ("image_reference", "image_digest")
    IMAGE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    image_reference: str
    image_digest: str
    def __init__(self, image_reference: _Optional[str] = ..., image_digest: _Optional[str] = ...) -> None: ...

class UntagModelVersionRequest(_message.Message):
    __slots__ = ("model", "tag", "image_digest")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    model: str
    tag: str
    image_digest: str
    def __init__(self, model: _Optional[str] = ..., tag: _Optional[str] = ..., image_digest: _Optional[str] = ...) -> None: ...

class UntagModelVersionResponse(_message.Message):
    __slots__ = ("image_reference", "removed", "detail")
    IMAGE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    image_reference: str
    removed: bool
    detail: str
    def __init__(self, image_reference: _Optional[str] = ..., removed: bool = ..., detail: _Optional[str] = ...) -> None: ...
