import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_VERSION_CREATED: _ClassVar[EventKind]
    EVENT_KIND_VERSION_RELEASED: _ClassVar[EventKind]
    EVENT_KIND_VERSION_FAILED: _ClassVar[EventKind]
    EVENT_KIND_VERSION_DELETED: _ClassVar[EventKind]
    EVENT_KIND_ALIAS_SET: _ClassVar[EventKind]
    EVENT_KIND_ALIAS_MOVED: _ClassVar[EventKind]
    EVENT_KIND_ALIAS_DELETED: _ClassVar[EventKind]
    EVENT_KIND_LABELS_CHANGED: _ClassVar[EventKind]
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_VERSION_CREATED: EventKind
EVENT_KIND_VERSION_RELEASED: EventKind
EVENT_KIND_VERSION_FAILED: EventKind
EVENT_KIND_VERSION_DELETED: EventKind
EVENT_KIND_ALIAS_SET: EventKind
EVENT_KIND_ALIAS_MOVED: EventKind
EVENT_KIND_ALIAS_DELETED: EventKind
EVENT_KIND_LABELS_CHANGED: EventKind

class RegistryEvent(_message.Message):
    __slots__ = ("resume_token", "time", "kind", "model", "namespace", "version", "alias", "previous_version", "caller", "labels", "image", "failure_reason")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    time: _timestamp_pb2.Timestamp
    kind: EventKind
    model: str
    namespace: str
    version: int
    alias: str
    previous_version: int
    caller: str
    labels: _containers.ScalarMap[str, str]
    image: str
    failure_reason: str
    def __init__(self, resume_token: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[EventKind, str]] = ..., model: _Optional[str] = ..., namespace: _Optional[str] = ..., version: _Optional[int] = ..., alias: _Optional[str] = ..., previous_version: _Optional[int] = ..., caller: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., image: _Optional[str] = ..., failure_reason: _Optional[str] = ...) -> None: ...

class WatchModelsRequest(_message.Message):
    __slots__ = ("namespace", "model", "resume_token", "kinds")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    model: str
    resume_token: str
    kinds: _containers.RepeatedScalarFieldContainer[EventKind]
    def __init__(self, namespace: _Optional[str] = ..., model: _Optional[str] = ..., resume_token: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[EventKind, str]]] = ...) -> None: ...
