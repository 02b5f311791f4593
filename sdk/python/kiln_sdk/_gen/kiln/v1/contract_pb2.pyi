from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataProfile(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_PROFILE_UNSPECIFIED: _ClassVar[DataProfile]
    DATA_PROFILE_NUMERICAL: _ClassVar[DataProfile]
    DATA_PROFILE_TEXT: _ClassVar[DataProfile]
    DATA_PROFILE_IMAGE: _ClassVar[DataProfile]
    DATA_PROFILE_CATEGORICAL: _ClassVar[DataProfile]
    DATA_PROFILE_ORDINAL: _ClassVar[DataProfile]
    DATA_PROFILE_AUDIO: _ClassVar[DataProfile]
    DATA_PROFILE_VIDEO: _ClassVar[DataProfile]

class DataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_TYPE_UNSPECIFIED: _ClassVar[DataType]
    DATA_TYPE_FLOAT: _ClassVar[DataType]
    DATA_TYPE_UINT8: _ClassVar[DataType]
    DATA_TYPE_INT8: _ClassVar[DataType]
    DATA_TYPE_UINT16: _ClassVar[DataType]
    DATA_TYPE_INT16: _ClassVar[DataType]
    DATA_TYPE_INT32: _ClassVar[DataType]
    DATA_TYPE_INT64: _ClassVar[DataType]
    DATA_TYPE_STRING: _ClassVar[DataType]
    DATA_TYPE_BOOL: _ClassVar[DataType]
    DATA_TYPE_FLOAT16: _ClassVar[DataType]
    DATA_TYPE_DOUBLE: _ClassVar[DataType]
    DATA_TYPE_UINT32: _ClassVar[DataType]
    DATA_TYPE_UINT64: _ClassVar[DataType]
    DATA_TYPE_COMPLEX64: _ClassVar[DataType]
    DATA_TYPE_COMPLEX128: _ClassVar[DataType]
    DATA_TYPE_BFLOAT16: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E4M3FN: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E4M3FNUZ: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E5M2: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E5M2FNUZ: _ClassVar[DataType]
    DATA_TYPE_UINT4: _ClassVar[DataType]
    DATA_TYPE_INT4: _ClassVar[DataType]
    DATA_TYPE_FLOAT4E2M1: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E8M0: _ClassVar[DataType]
    DATA_TYPE_UINT2: _ClassVar[DataType]
    DATA_TYPE_INT2: _ClassVar[DataType]
    DATA_TYPE_FLOAT6E2M3: _ClassVar[DataType]
    DATA_TYPE_FLOAT6E3M2: _ClassVar[DataType]
    DATA_TYPE_QINT8: _ClassVar[DataType]
    DATA_TYPE_QUINT8: _ClassVar[DataType]
    DATA_TYPE_QINT16: _ClassVar[DataType]
    DATA_TYPE_QUINT16: _ClassVar[DataType]
    DATA_TYPE_QINT32: _ClassVar[DataType]
    DATA_TYPE_RESOURCE: _ClassVar[DataType]
    DATA_TYPE_VARIANT: _ClassVar[DataType]
    DATA_TYPE_FLOAT8E4M3B11FNUZ: _ClassVar[DataType]
DATA_PROFILE_UNSPECIFIED: DataProfile
DATA_PROFILE_NUMERICAL: DataProfile
DATA_PROFILE_TEXT: DataProfile
DATA_PROFILE_IMAGE: DataProfile
DATA_PROFILE_CATEGORICAL: DataProfile
DATA_PROFILE_ORDINAL: DataProfile
DATA_PROFILE_AUDIO: DataProfile
DATA_PROFILE_VIDEO: DataProfile
DATA_TYPE_UNSPECIFIED: DataType
DATA_TYPE_FLOAT: DataType
DATA_TYPE_UINT8: DataType
DATA_TYPE_INT8: DataType
DATA_TYPE_UINT16: DataType
DATA_TYPE_INT16: DataType
DATA_TYPE_INT32: DataType
DATA_TYPE_INT64: DataType
DATA_TYPE_STRING: DataType
DATA_TYPE_BOOL: DataType
DATA_TYPE_FLOAT16: DataType
DATA_TYPE_DOUBLE: DataType
DATA_TYPE_UINT32: DataType
DATA_TYPE_UINT64: DataType
DATA_TYPE_COMPLEX64: DataType
DATA_TYPE_COMPLEX128: DataType
DATA_TYPE_BFLOAT16: DataType
DATA_TYPE_FLOAT8E4M3FN: DataType
DATA_TYPE_FLOAT8E4M3FNUZ: DataType
DATA_TYPE_FLOAT8E5M2: DataType
DATA_TYPE_FLOAT8E5M2FNUZ: DataType
DATA_TYPE_UINT4: DataType
DATA_TYPE_INT4: DataType
DATA_TYPE_FLOAT4E2M1: DataType
DATA_TYPE_FLOAT8E8M0: DataType
DATA_TYPE_UINT2: DataType
DATA_TYPE_INT2: DataType
DATA_TYPE_FLOAT6E2M3: DataType
DATA_TYPE_FLOAT6E3M2: DataType
DATA_TYPE_QINT8: DataType
DATA_TYPE_QUINT8: DataType
DATA_TYPE_QINT16: DataType
DATA_TYPE_QUINT16: DataType
DATA_TYPE_QINT32: DataType
DATA_TYPE_RESOURCE: DataType
DATA_TYPE_VARIANT: DataType
DATA_TYPE_FLOAT8E4M3B11FNUZ: DataType

class Contract(_message.Message):
    __slots__ = ("signatures", "source")
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    signatures: _containers.RepeatedCompositeFieldContainer[Signature]
    source: str
    def __init__(self, signatures: _Optional[_Iterable[_Union[Signature, _Mapping]]] = ..., source: _Optional[str] = ...) -> None: ...

class Signature(_message.Message):
    __slots__ = ("name", "method", "inputs", "outputs", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    method: str
    inputs: _containers.RepeatedCompositeFieldContainer[Field]
    outputs: _containers.RepeatedCompositeFieldContainer[Field]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., method: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class Field(_message.Message):
    __slots__ = ("name", "tensor", "sequence", "map", "optional", "sparse_tensor", "ragged_tensor", "profile")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    SPARSE_TENSOR_FIELD_NUMBER: _ClassVar[int]
    RAGGED_TENSOR_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    name: str
    tensor: TensorType
    sequence: SequenceType
    map: MapType
    optional: OptionalType
    sparse_tensor: SparseTensorType
    ragged_tensor: RaggedTensorType
    profile: DataProfile
    def __init__(self, name: _Optional[str] = ..., tensor: _Optional[_Union[TensorType, _Mapping]] = ..., sequence: _Optional[_Union[SequenceType, _Mapping]] = ..., map: _Optional[_Union[MapType, _Mapping]] = ..., optional: _Optional[_Union[OptionalType, _Mapping]] = ..., sparse_tensor: _Optional[_Union[SparseTensorType, _Mapping]] = ..., ragged_tensor: _Optional[_Union[RaggedTensorType, _Mapping]] = ..., profile: _Optional[_Union[DataProfile, str]] = ...) -> None: ...

class ValueType(_message.Message):
    __slots__ = ("tensor", "sequence", "map", "optional", "sparse_tensor", "ragged_tensor")
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    SPARSE_TENSOR_FIELD_NUMBER: _ClassVar[int]
    RAGGED_TENSOR_FIELD_NUMBER: _ClassVar[int]
    tensor: TensorType
    sequence: SequenceType
    map: MapType
    optional: OptionalType
    sparse_tensor: SparseTensorType
    ragged_tensor: RaggedTensorType
    def __init__(self, tensor: _Optional[_Union[TensorType, _Mapping]] = ..., sequence: _Optional[_Union[SequenceType, _Mapping]] = ..., map: _Optional[_Union[MapType, _Mapping]] = ..., optional: _Optional[_Union[OptionalType, _Mapping]] = ..., sparse_tensor: _Optional[_Union[SparseTensorType, _Mapping]] = ..., ragged_tensor: _Optional[_Union[RaggedTensorType, _Mapping]] = ...) -> None: ...

class TensorType(_message.Message):
    __slots__ = ("dtype", "shape")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    dtype: DataType
    shape: Shape
    def __init__(self, dtype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Union[Shape, _Mapping]] = ...) -> None: ...

class SparseTensorType(_message.Message):
    __slots__ = ("dtype", "shape")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    dtype: DataType
    shape: Shape
    def __init__(self, dtype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Union[Shape, _Mapping]] = ...) -> None: ...

class RaggedTensorType(_message.Message):
    __slots__ = ("dtype", "shape", "ragged_rank", "row_splits_dtype")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    RAGGED_RANK_FIELD_NUMBER: _ClassVar[int]
    ROW_SPLITS_DTYPE_FIELD_NUMBER: _ClassVar[int]
    dtype: DataType
    shape: Shape
    ragged_rank: int
    row_splits_dtype: DataType
    def __init__(self, dtype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Union[Shape, _Mapping]] = ..., ragged_rank: _Optional[int] = ..., row_splits_dtype: _Optional[_Union[DataType, str]] = ...) -> None: ...

class SequenceType(_message.Message):
    __slots__ = ("element_type",)
    ELEMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    element_type: ValueType
    def __init__(self, element_type: _Optional[_Union[ValueType, _Mapping]] = ...) -> None: ...

class MapType(_message.Message):
    __slots__ = ("key_type", "value_type")
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    key_type: DataType
    value_type: ValueType
    def __init__(self, key_type: _Optional[_Union[DataType, str]] = ..., value_type: _Optional[_Union[ValueType, _Mapping]] = ...) -> None: ...

class OptionalType(_message.Message):
    __slots__ = ("element_type",)
    ELEMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    element_type: ValueType
    def __init__(self, element_type: _Optional[_Union[ValueType, _Mapping]] = ...) -> None: ...

class Shape(_message.Message):
    __slots__ = ("dims",)
    DIMS_FIELD_NUMBER: _ClassVar[int]
    dims: _containers.RepeatedCompositeFieldContainer[Dim]
    def __init__(self, dims: _Optional[_Iterable[_Union[Dim, _Mapping]]] = ...) -> None: ...

class Dim(_message.Message):
    __slots__ = ("size", "name")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    size: int
    name: str
    def __init__(self, size: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...
