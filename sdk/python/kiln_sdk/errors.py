"""Kiln's errors as Python exceptions: one class per gRPC status code, all subclasses of KilnError."""
from __future__ import annotations

from typing import Dict, Optional, Type

import grpc


class KilnError(Exception):
    """An error a Kiln call returned: its gRPC status code and the server's message (which says what and where)."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class Cancelled(KilnError):
    code = grpc.StatusCode.CANCELLED


class Unknown(KilnError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(KilnError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(KilnError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(KilnError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(KilnError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(KilnError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(KilnError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(KilnError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(KilnError):
    code = grpc.StatusCode.ABORTED


class OutOfRange(KilnError):
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(KilnError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(KilnError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(KilnError):
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(KilnError):
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(KilnError):
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[KilnError]] = {
    cls.code: cls
    for cls in (
        Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists, PermissionDenied,
        ResourceExhausted, FailedPrecondition, Aborted, OutOfRange, Unimplemented, Internal, Unavailable, DataLoss,
        Unauthenticated,
    )
}


def from_rpc_error(err: grpc.RpcError) -> KilnError:
    """The KilnError subclass for a failed call's status code (KilnError itself for codes without a class)."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = err.details() if hasattr(err, "details") else str(err)
    cls = _BY_CODE.get(code, KilnError)
    return cls(details or code.name, code)
