from kiln_sdk._gen.kiln.v1 import contract_pb2 as _contract_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_SEVERITY_UNSPECIFIED: _ClassVar[ChangeSeverity]
    CHANGE_SEVERITY_BREAKING: _ClassVar[ChangeSeverity]
    CHANGE_SEVERITY_COMPATIBLE: _ClassVar[ChangeSeverity]
    CHANGE_SEVERITY_INFORMATIONAL: _ClassVar[ChangeSeverity]
CHANGE_SEVERITY_UNSPECIFIED: ChangeSeverity
CHANGE_SEVERITY_BREAKING: ChangeSeverity
CHANGE_SEVERITY_COMPATIBLE: ChangeSeverity
CHANGE_SEVERITY_INFORMATIONAL: ChangeSeverity

class VersionSelector(_message.Message):
    __slots__ = ("model", "version", "alias")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    alias: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., alias: _Optional[str] = ...) -> None: ...

class DiffContractsRequest(_message.Message):
    __slots__ = ("against", "version", "contract")
    AGAINST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    against: VersionSelector
    version: VersionSelector
    contract: _contract_pb2.Contract
    def __init__(self, against: _Optional[_Union[VersionSelector, _Mapping]] = ..., version: _Optional[_Union[VersionSelector, _Mapping]] = ..., contract: _Optional[_Union[_contract_pb2.Contract, _Mapping]] = ...) -> None: ...

class ContractChange(_message.Message):
    __slots__ = ("severity", "kind", "path", "message", "before", "after")
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    severity: ChangeSeverity
    kind: str
    path: str
    message: str
    before: str
    after: str
    def __init__(self, severity: _Optional[_Union[ChangeSeverity, str]] = ..., kind: _Optional[str] = ..., path: _Optional[str] = ..., message: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ...) -> None: ...

class DiffContractsResponse(_message.Message):
    __slots__ = ("changes", "breaking", "against_version", "candidate_version")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    BREAKING_FIELD_NUMBER: _ClassVar[int]
    AGAINST_VERSION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ContractChange]
    breaking: bool
    against_version: int
    candidate_version: int
    def __init__(self, changes: _Optional[_Iterable[_Union[ContractChange, _Mapping]]] = ..., breaking: bool = ..., against_version: _Optional[int] = ..., candidate_version: _Optional[int] = ...) -> None: ...
