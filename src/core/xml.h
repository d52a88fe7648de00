/* xml.h - a tiny, safe XML text extractor for AWS answers (STS, S3).
 *
 * Not a general XML parser: it checks that a document is well formed
 * enough to trust (one root element, every tag closed by a tag of the
 * same name, attributes quoted, entities known, nothing but white space,
 * comments and processing instructions outside the root) and copies the
 * text of the elements asked for by name path. Pure code, no I/O, no
 * allocation except in the caller's output buffers.
 *
 * Safe on hostile input: no DOCTYPE is accepted (so no entity can be
 * defined or expanded: only the five predefined entities and numeric
 * character references are known), nesting is capped at SS_XML_MAX_DEPTH,
 * names at SS_XML_MAX_NAME bytes, and the text copied is bounded by the
 * output buffer's cap (struct ss_buf). The walk is one pass over the
 * input, linear in its length.
 *
 * Names are compared by local name: a namespace prefix ("s3:Key") is
 * ignored, so AWS's default namespaces never matter. The text of an
 * element is its character data and CDATA sections, entities replaced
 * (a numeric reference becomes its UTF-8 bytes), text inside child
 * elements excluded. The output buffers may receive secrets (a session
 * token): they zero themselves when freed.
 */
#ifndef SS_XML_H
#define SS_XML_H

#include <stddef.h>

#include "buf.h"
#include "rc.h"

/* Deepest element nesting accepted (the root is depth 1). */
#define SS_XML_MAX_DEPTH 64
/* Longest element or attribute name accepted, prefix included. */
#define SS_XML_MAX_NAME 256
/* Most queries one ss_xml_extract call takes. */
#define SS_XML_MAX_QUERIES 16

/* One lookup. path is a '/'-separated list of element names that must
 * match the innermost open elements: "Credentials/AccessKeyId" matches an
 * AccessKeyId element whose parent is Credentials, at any depth; a
 * leading '/' anchors the path at the root ("/Error/Code"). The first
 * match in document order wins. */
struct ss_xml_query {
	const char *path;
	struct ss_buf *out; /* receives the text (appended); may be NULL */
	int found;	    /* set to 1 by ss_xml_extract when matched */
};

/* Walk the document in xml[0..len) (no terminator needed) and fill every
 * query (found = 0 for the ones without a match). SS_OK when the whole
 * document is well formed; SS_ERR_PARSE when it is not (a truncated
 * answer, a DOCTYPE, an unknown entity, mismatched tags...),
 * SS_ERR_TOOBIG when nesting or a name passes its cap or an output
 * buffer is full, SS_ERR_INVALID for a bad path (empty, an empty
 * component, too long) or more than SS_XML_MAX_QUERIES queries. On failure the output
 * buffers may hold partial text and every found is 0: the caller must
 * not use them. */
enum ss_rc ss_xml_extract(const char *xml, size_t len, struct ss_xml_query *q,
			  size_t nq) SS_MUST_CHECK;

/* One query: the text of the first element matching path appended to
 * out. SS_ERR_NOTFOUND when the document is well formed but has no such
 * element; otherwise as ss_xml_extract. */
enum ss_rc ss_xml_text(const char *xml, size_t len, const char *path,
		       struct ss_buf *out) SS_MUST_CHECK;

#endif
