// Package mlflow holds mltrack's domain: MLflow's entities, their validation
// rules and limits, and MLflow's error codes with their HTTP statuses. It does
// no I/O.
package mlflow

import (
	"errors"
	"fmt"
)

// ErrorCode is one of MLflow's protobuf ErrorCode names, as sent on the wire.
type ErrorCode string

// The error codes mltrack answers with (names from MLflow's databricks.proto).
const (
	InternalError          ErrorCode = "INTERNAL_ERROR"
	InvalidParameterValue  ErrorCode = "INVALID_PARAMETER_VALUE"
	ResourceDoesNotExist   ErrorCode = "RESOURCE_DOES_NOT_EXIST"
	ResourceAlreadyExists  ErrorCode = "RESOURCE_ALREADY_EXISTS"
	BadRequest             ErrorCode = "BAD_REQUEST"
	InvalidState           ErrorCode = "INVALID_STATE"
	EndpointNotFound       ErrorCode = "ENDPOINT_NOT_FOUND"
	PermissionDenied       ErrorCode = "PERMISSION_DENIED"
	Unauthenticated        ErrorCode = "UNAUTHENTICATED"
	TemporarilyUnavailable ErrorCode = "TEMPORARILY_UNAVAILABLE"
	ResourceConflict       ErrorCode = "RESOURCE_CONFLICT"
	RequestLimitExceeded   ErrorCode = "REQUEST_LIMIT_EXCEEDED"
	NotImplemented         ErrorCode = "NOT_IMPLEMENTED"
	NotFoundCode           ErrorCode = "NOT_FOUND" // trace data missing (MlflowTraceDataNotFound)
)

// HTTPStatus is the status MLflow's server answers for the code
// (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS); unknown codes are 500.
func (c ErrorCode) HTTPStatus() int {
	switch c {
	case BadRequest, InvalidParameterValue, ResourceAlreadyExists:
		return 400
	case Unauthenticated:
		return 401
	case PermissionDenied:
		return 403
	case EndpointNotFound, ResourceDoesNotExist, NotFoundCode:
		return 404
	case ResourceConflict:
		return 409
	case RequestLimitExceeded:
		return 429
	case NotImplemented:
		return 501
	case TemporarilyUnavailable:
		return 503
	default: // InternalError, InvalidState and anything else
		return 500
	}
}

// Error is an error with MLflow's error code. Every layer returns it for
// conditions a client must see; the API turns it into
// {"error_code": ..., "message": ...} with the code's HTTP status.
type Error struct {
	Code    ErrorCode
	Message string
	// Status overrides Code.HTTPStatus() when non-zero, for the few places
	// where MLflow answers a code with an unusual status.
	Status int
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// HTTPStatus is the HTTP status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.HTTPStatus()
}

// Errorf builds an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParam is the most common error: INVALID_PARAMETER_VALUE.
func InvalidParam(format string, args ...any) *Error {
	return Errorf(InvalidParameterValue, format, args...)
}

// NotFound is RESOURCE_DOES_NOT_EXIST.
func NotFound(format string, args ...any) *Error {
	return Errorf(ResourceDoesNotExist, format, args...)
}

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsNotFound reports whether err is (or wraps) a RESOURCE_DOES_NOT_EXIST error.
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == ResourceDoesNotExist
}
