#include "aws/xml.h"

#include <libxml/parser.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/macros.h"
#include "base/str.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void xml_init(void)
{
	xmlInitParser();
	/* library modules do not print: drop libxml2's generic error output */
	xmlSetGenericErrorFunc(NULL, silent);
}

xmlDoc *aws_xml_parse(const char *text, size_t len)
{
	pthread_once(&xml_once, xml_init);
	if (!text || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	return xmlReadMemory(text, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
}

xmlNode *aws_xml_root(xmlDoc *doc)
{
	return doc ? xmlDocGetRootElement(doc) : NULL;
}

xmlNode *aws_xml_child(const xmlNode *node, const char *name)
{
	if (!node)
		return NULL;
	for (xmlNode *c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

xmlNode *aws_xml_path(const xmlNode *node, const char *path)
{
	char part[128];
	const char *p = path;
	xmlNode *cur = (xmlNode *)node;

	while (cur && *p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		cur = aws_xml_child(cur, part);
		p += n;
		if (*p == '/')
			p++;
	}
	return cur;
}

xmlNode *aws_xml_next_same(const xmlNode *node)
{
	for (xmlNode *s = node ? node->next : NULL; s; s = s->next)
		if (s->type == XML_ELEMENT_NODE && strcmp((const char *)s->name, (const char *)node->name) == 0)
			return s;
	return NULL;
}

char *aws_xml_text(const xmlNode *node, const char *path, bool *oom)
{
	xmlNode *n = path && *path ? aws_xml_path(node, path) : (xmlNode *)node;
	xmlChar *c;
	char *s;

	if (!n)
		return NULL;
	c = xmlNodeGetContent(n);
	s = strdup(c ? (const char *)c : "");
	xmlFree(c);
	if (!s && oom)
		*oom = true;
	return s;
}

void aws_xml_text_buf(const xmlNode *node, const char *path, char *dst, size_t size)
{
	_cleanup_free_ char *s = aws_xml_text(node, path, NULL);

	str_copy(dst, size, s ? s : "");
}
