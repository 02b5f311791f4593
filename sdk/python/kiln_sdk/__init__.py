"""Kiln's Python SDK: a thin client for the kiln.v1 API (kiln_sdk.client) over stubs generated from proto/."""
from kiln_sdk.client import (
    CHUNK_BYTES,
    Client,
    LogEvent,
    Model,
    ModelVersion,
    ModelVersionStatus,
    SkippedFileWarning,
    StatusEvent,
    WatchEvent,
)
from kiln_sdk.errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    KilnError,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)

__all__ = [
    "CHUNK_BYTES", "Client", "LogEvent", "Model", "ModelVersion", "ModelVersionStatus", "SkippedFileWarning",
    "StatusEvent", "WatchEvent",
    "Aborted", "AlreadyExists", "Cancelled", "DataLoss", "DeadlineExceeded", "FailedPrecondition", "Internal",
    "InvalidArgument", "KilnError", "NotFound", "OutOfRange", "PermissionDenied", "ResourceExhausted",
    "Unauthenticated", "Unavailable", "Unimplemented", "Unknown",
]
