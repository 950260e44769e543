/* xml.h: the little libxml2 the Query protocol needs.
 *
 * Responses are parsed without network access, entity substitution or DTD
 * loading, and without libxml2 printing anything. Elements are matched by
 * local name (namespaces ignored: IAM and STS put everything in their
 * default namespace).
 */
#ifndef KEYLESS_AWS_XML_H
#define KEYLESS_AWS_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse; returns NULL when the text is not well-formed XML. Free with xmlFreeDoc. */
xmlDoc *aws_xml_parse(const char *text, size_t len);

/* First child element of `node` named `name`, or NULL. */
xmlNode *aws_xml_child(const xmlNode *node, const char *name);

/* Follow a '/'-separated path of child names ("GetRoleResult/Role"). */
xmlNode *aws_xml_path(const xmlNode *node, const char *path);

/* Next sibling element named like `node` (for "member" lists). */
xmlNode *aws_xml_next_same(const xmlNode *node);

/* Text content of the element at `path` under node: a malloc'd string,
 * or NULL when the element is absent (or allocation failed: *oom set). */
char *aws_xml_text(const xmlNode *node, const char *path, bool *oom);

/* Text at path into a fixed buffer (truncated); "" when absent. */
void aws_xml_text_buf(const xmlNode *node, const char *path, char *dst, size_t size);

/* Root element, or NULL. */
xmlNode *aws_xml_root(xmlDoc *doc);

static inline void aws_xml_freep(xmlDoc **d)
{
	if (*d)
		xmlFreeDoc(*d);
}
#define _cleanup_xml_ __attribute__((cleanup(aws_xml_freep)))

#endif
