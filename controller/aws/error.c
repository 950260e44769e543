#include "aws/error.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "aws/xml.h"
#include "base/str.h"

static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(code, list[i]))
			return true;
	return false;
}

static const char *const throttling[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
};

bool aws_error_is_throttling(const char *code, long http_status)
{
	return http_status == 429 || (code && in_list(code, throttling, ARRAY_SIZE(throttling)));
}

bool aws_error_is_transient(const char *code, long http_status)
{
	static const char *const transient[] = { "RequestTimeout", "RequestTimeoutException",
						 "PriorRequestNotComplete" };

	if (code && in_list(code, transient, ARRAY_SIZE(transient)))
		return true;
	return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

static const struct {
	const char *code;
	int err;
} code_errno[] = {
	{ "NoSuchEntity", -ENOENT },
	{ "ResourceNotFoundException", -ENOENT },
	{ "NotFoundException", -ENOENT },
	{ "EntityAlreadyExists", -EEXIST },
	{ "ResourceInUseException", -EEXIST },
	{ "ResourceAlreadyExistsException", -EEXIST },
	{ "AccessDenied", -EACCES },
	{ "AccessDeniedException", -EACCES },
	{ "UnauthorizedOperation", -EACCES },
	{ "LimitExceeded", -EDQUOT },
	{ "ResourceLimitExceededException", -EDQUOT },
	{ "MalformedPolicyDocument", -EINVAL },
	{ "ValidationError", -EINVAL },
	{ "ValidationException", -EINVAL },
	{ "InvalidInput", -EINVAL },
	{ "InvalidParameterValue", -EINVAL },
	{ "InvalidParameterCombination", -EINVAL },
	{ "InvalidParameterException", -EINVAL },
	{ "InvalidRequestException", -EINVAL },
	{ "MissingParameter", -EINVAL },
	{ "PackedPolicyTooLarge", -EINVAL },
	{ "DeleteConflict", -EBUSY },
	{ "ConcurrentModification", -EBUSY },
	{ "SignatureDoesNotMatch", -EPERM },
	{ "InvalidClientTokenId", -EPERM },
	{ "ExpiredToken", -EPERM },
	{ "ExpiredTokenException", -EPERM },
	{ "IncompleteSignature", -EPERM },
	{ "MissingAuthenticationToken", -EPERM },
	{ "UnrecognizedClientException", -EPERM },
	{ "InvalidIdentityToken", -EPERM },
	{ "IDPRejectedClaim", -EPERM },
	{ "UnmodifiableEntity", -EPERM },
	{ "InvalidAction", -EOPNOTSUPP },
	{ "UnknownOperationException", -EOPNOTSUPP },
};

int aws_error_errno(const char *code, long http_status)
{
	if (code && *code) {
		for (size_t i = 0; i < ARRAY_SIZE(code_errno); i++)
			if (streq(code, code_errno[i].code))
				return code_errno[i].err;
		if (aws_error_is_throttling(code, http_status))
			return -EAGAIN;
	}
	if (http_status == 429)
		return -EAGAIN;
	if (http_status >= 500)
		return -EIO;
	switch (http_status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	default:
		return -EPROTO;
	}
}

/* "Code:http://internal..." or "ns#Code" or "aws.protocoltests#Code:http" -> "Code" */
static void clean_code(const char *in, char *out, size_t size)
{
	const char *hash = strchr(in, '#');
	size_t n;

	if (hash)
		in = hash + 1;
	n = strcspn(in, ":");
	if (n >= size)
		n = size - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

static bool parse_xml(const struct aws_http_response *resp, struct op_err *e)
{
	_cleanup_xml_ xmlDoc *doc = aws_xml_parse(resp->body.data, resp->body.len);
	xmlNode *root = aws_xml_root(doc), *err;
	char code[64] = "";

	if (!root)
		return false;
	if (streq((const char *)root->name, "ErrorResponse")) {
		err = aws_xml_child(root, "Error");
		if (!err) /* moto's auth failures: <ErrorResponse><Errors><Error> */
			err = aws_xml_path(root, "Errors/Error");
	}
	else if (streq((const char *)root->name, "Error"))
		err = root;
	else if (streq((const char *)root->name, "Response")) /* EC2-style <Response><Errors><Error> */
		err = aws_xml_path(root, "Errors/Error");
	else
		return false;
	if (!err)
		return false;
	aws_xml_text_buf(err, "Code", code, sizeof(code));
	if (!code[0])
		return false;
	str_copy(e->reason, sizeof(e->reason), code);
	aws_xml_text_buf(err, "Message", e->message, sizeof(e->message));
	if (aws_xml_child(root, "RequestId"))
		aws_xml_text_buf(root, "RequestId", e->request_id, sizeof(e->request_id));
	else if (aws_xml_child(root, "RequestID"))
		aws_xml_text_buf(root, "RequestID", e->request_id, sizeof(e->request_id));
	else if (aws_xml_child(err, "RequestId"))
		aws_xml_text_buf(err, "RequestId", e->request_id, sizeof(e->request_id));
	return true;
}

static bool parse_json(const struct aws_http_response *resp, struct op_err *e)
{
	json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	const char *type = NULL, *msg = NULL;
	char code[64] = "";

	if (resp->error_type[0])
		clean_code(resp->error_type, code, sizeof(code));
	if (j && json_is_object(j)) {
		if (!code[0]) {
			type = json_string_value(json_object_get(j, "__type"));
			if (!type)
				type = json_string_value(json_object_get(j, "code"));
			if (!type)
				type = json_string_value(json_object_get(j, "Code"));
			if (type)
				clean_code(type, code, sizeof(code));
		}
		msg = json_string_value(json_object_get(j, "message"));
		if (!msg)
			msg = json_string_value(json_object_get(j, "Message"));
		if (!msg)
			msg = json_string_value(json_object_get(j, "errorMessage"));
		if (msg)
			str_copy(e->message, sizeof(e->message), msg);
	}
	json_decref(j);
	if (!code[0])
		return false;
	str_copy(e->reason, sizeof(e->reason), code);
	return true;
}

int aws_error_parse(const struct aws_http_response *resp, struct op_err *e)
{
	const char *b = resp->body.data ? resp->body.data : "";
	size_t skip = strspn(b, " \t\r\n");
	bool found = false;

	e->http_status = (int)resp->status;
	e->reason[0] = e->message[0] = e->request_id[0] = '\0';
	if (b[skip] == '<')
		found = parse_xml(resp, e);
	if (!found)
		found = parse_json(resp, e);
	if (!e->request_id[0] && resp->request_id[0])
		str_copy(e->request_id, sizeof(e->request_id), resp->request_id);
	if (!found && !e->message[0]) {
		/* unknown shape: keep the start of the body for a human, one line */
		char *m = e->message;
		size_t n;

		str_copy(m, sizeof(e->message), b + skip);
		n = strlen(m);
		for (size_t i = 0; i < n; i++)
			if (m[i] == '\n' || m[i] == '\r' || m[i] == '\t')
				m[i] = ' ';
		if (n > 200)
			str_copy(m + 197, sizeof(e->message) - 197, "...");
	}
	return found ? 0 : -ENOMSG;
}
