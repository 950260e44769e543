/* error.h: AWS error responses -> struct op_err and -errno.
 *
 * Shapes understood (whatever the service, since emulators mix them: moto
 * answers EKS auth failures in the Query XML shape):
 *   Query XML  <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
 *              (and moto's <ErrorResponse><Errors><Error>...</Error></Errors>...)
 *   REST XML   <Error><Code/><Message/><RequestId/></Error>
 *   JSON       x-amzn-ErrorType header ("Code:http://..." -> "Code") and/or a
 *              body {"__type": "ns#Code", "code": ..., "message"|"Message": ...}
 * The request id comes from the body, else the x-amzn-RequestId header.
 *
 * -errno mapping (the AWS code always stays in op_err.reason):
 *   NoSuchEntity, ResourceNotFoundException, NotFoundException      -ENOENT
 *   EntityAlreadyExists, ResourceInUseException,
 *     ResourceAlreadyExistsException                                -EEXIST
 *   AccessDenied, AccessDeniedException, UnauthorizedOperation      -EACCES
 *   throttling codes (aws_error_is_throttling)                      -EAGAIN
 *   LimitExceeded, ResourceLimitExceededException                   -EDQUOT
 *   MalformedPolicyDocument, ValidationError, InvalidInput,
 *     InvalidParameterValue/Combination, InvalidParameterException,
 *     InvalidRequestException, MissingParameter, PackedPolicyTooLarge -EINVAL
 *   DeleteConflict, ConcurrentModification                          -EBUSY
 *   SignatureDoesNotMatch, InvalidClientTokenId, ExpiredToken(Exception),
 *     IncompleteSignature, MissingAuthenticationToken,
 *     UnrecognizedClientException, InvalidIdentityToken,
 *     IDPRejectedClaim, UnmodifiableEntity                          -EPERM
 *   InvalidAction, UnknownOperationException                        -EOPNOTSUPP
 *   other codes by HTTP status: 5xx -EIO, 400 -EINVAL, 401/403 -EACCES,
 *     404 -ENOENT, 409 -EEXIST, 429 -EAGAIN, anything else -EPROTO.
 */
#ifndef KEYLESS_AWS_ERROR_H
#define KEYLESS_AWS_ERROR_H

#include <stdbool.h>

#include "aws/http.h"
#include "base/err.h"

/* Fill e (http_status, reason, message, request_id; e->code untouched) from a
 * non-2xx response. Returns 0 when an AWS error code was found, -ENOMSG when
 * the body had no recognizable error (reason stays "", message holds the
 * start of the body). */
int aws_error_parse(const struct aws_http_response *resp, struct op_err *e);

/* -errno for an AWS error code (may be "") and HTTP status. */
int aws_error_errno(const char *code, long http_status);

/* The SDKs' throttling codes (botocore retries/standard.py), plus HTTP 429. */
bool aws_error_is_throttling(const char *code, long http_status);

/* Transient per the standard retry mode: RequestTimeout(Exception),
 * PriorRequestNotComplete, HTTP 500/502/503/504. */
bool aws_error_is_transient(const char *code, long http_status);

#endif
