/*-------------------------------------------------------------------------
 *
 * json.c
 *	  The little JSON swarmctl needs: checking that a notification's payload
 *	  is valid JSON (so that it can be embedded as it is), reading one member
 *	  of an object, and writing a string as a JSON string.
 *
 * tools/swarmctl/json.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "swarmctl.h"

#define JSON_MAX_DEPTH 64

static const char *parse_value(const char *p, int depth);

/* Skip JSON whitespace. */
static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Parse a string starting at its opening quote; the end, or NULL. */
static const char *
parse_string(const char *p)
{
	if (*p != '"')
		return NULL;
	p++;
	for (;;)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"')
			return p + 1;
		if (c == '\0' || c < 0x20)
			return NULL;
		if (c == '\\')
		{
			p++;
			switch (*p)
			{
				case '"':
				case '\\':
				case '/':
				case 'b':
				case 'f':
				case 'n':
				case 'r':
				case 't':
					p++;
					break;
				case 'u':
					{
						int			i;

						for (i = 1; i <= 4; i++)
							if (!isxdigit((unsigned char) p[i]))
								return NULL;
						p += 5;
						break;
					}
				default:
					return NULL;
			}
		}
		else
			p++;
	}
}

/* Parse a number; the end, or NULL. */
static const char *
parse_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char) *p))
			p++;
	else
		return NULL;
	if (*p == '.')
	{
		p++;
		if (!isdigit((unsigned char) *p))
			return NULL;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return NULL;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return p;
}

/* Parse an object starting at its brace; the end, or NULL. */
static const char *
parse_object(const char *p, int depth)
{
	p = skip_ws(p + 1);
	if (*p == '}')
		return p + 1;
	for (;;)
	{
		p = parse_string(p);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p != ':')
			return NULL;
		p = parse_value(skip_ws(p + 1), depth + 1);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
}

/* Parse an array starting at its bracket; the end, or NULL. */
static const char *
parse_array(const char *p, int depth)
{
	p = skip_ws(p + 1);
	if (*p == ']')
		return p + 1;
	for (;;)
	{
		p = parse_value(p, depth + 1);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
}

/* Parse any value (no leading whitespace); the end, or NULL. */
static const char *
parse_value(const char *p, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return NULL;
	switch (*p)
	{
		case '{':
			return parse_object(p, depth);
		case '[':
			return parse_array(p, depth);
		case '"':
			return parse_string(p);
		case 't':
			return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
		case 'f':
			return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
		case 'n':
			return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
		default:
			return parse_number(p);
	}
}

/* Whether s is one valid JSON value (with optional surrounding whitespace). */
bool
json_is_valid(const char *s)
{
	const char *end = parse_value(skip_ws(s), 0);

	return end != NULL && *skip_ws(end) == '\0';
}

/*
 * Find a member of a JSON object by its key (compared as written, without
 * unescaping): its value's text and length.  False when object is not a
 * valid object or has no such key.
 */
bool
json_member(const char *object, const char *key, const char **value, size_t *len)
{
	const char *p;
	size_t		keylen = strlen(key);

	if (!json_is_valid(object))
		return false;
	p = skip_ws(object);
	if (*p != '{')
		return false;
	p = skip_ws(p + 1);
	while (*p == '"')
	{
		const char *kstart = p + 1;
		const char *kend = parse_string(p);
		const char *vstart;
		const char *vend;

		vstart = skip_ws(skip_ws(kend) + 1);	/* past the colon */
		vend = parse_value(vstart, 1);
		if ((size_t) (kend - 1 - kstart) == keylen && strncmp(kstart, key, keylen) == 0)
		{
			*value = vstart;
			*len = vend - vstart;
			return true;
		}
		p = skip_ws(vend);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	return false;
}

/* The value of four hex digits (already checked by parse_string). */
static unsigned int
hex4(const char *p)
{
	unsigned int v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		char		c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
	}
	return v;
}

/* Append a code point as UTF-8. */
static void
append_utf8(PQExpBuffer buf, unsigned int cp)
{
	if (cp < 0x80)
		appendPQExpBufferChar(buf, (char) cp);
	else if (cp < 0x800)
	{
		appendPQExpBufferChar(buf, (char) (0xC0 | (cp >> 6)));
		appendPQExpBufferChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else if (cp < 0x10000)
	{
		appendPQExpBufferChar(buf, (char) (0xE0 | (cp >> 12)));
		appendPQExpBufferChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendPQExpBufferChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else
	{
		appendPQExpBufferChar(buf, (char) (0xF0 | (cp >> 18)));
		appendPQExpBufferChar(buf, (char) (0x80 | ((cp >> 12) & 0x3F)));
		appendPQExpBufferChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendPQExpBufferChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
}

/*
 * A member's value as text: a string unescaped, a number, true or false as
 * written; arrays and objects as written.  False when the key is missing or
 * the value is null.  The text is truncated to fit buf.
 */
bool
json_member_text(const char *object, const char *key, char *buf, size_t buflen)
{
	const char *v;
	size_t		len;
	PQExpBuffer out;

	if (!json_member(object, key, &v, &len) || (len == 4 && strncmp(v, "null", 4) == 0))
		return false;
	out = createPQExpBuffer();
	if (*v == '"')
	{
		const char *p = v + 1;
		const char *end = v + len - 1;

		while (p < end)
		{
			if (*p != '\\')
			{
				appendPQExpBufferChar(out, *p++);
				continue;
			}
			p++;
			switch (*p)
			{
				case 'b':
					appendPQExpBufferChar(out, '\b');
					break;
				case 'f':
					appendPQExpBufferChar(out, '\f');
					break;
				case 'n':
					appendPQExpBufferChar(out, '\n');
					break;
				case 'r':
					appendPQExpBufferChar(out, '\r');
					break;
				case 't':
					appendPQExpBufferChar(out, '\t');
					break;
				case 'u':
					{
						unsigned int cp = hex4(p + 1);

						/* a surrogate pair makes one code point */
						if (cp >= 0xD800 && cp < 0xDC00 && p[5] == '\\' && p[6] == 'u')
						{
							unsigned int lo = hex4(p + 7);

							if (lo >= 0xDC00 && lo < 0xE000)
							{
								cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
								p += 6;
							}
						}
						append_utf8(out, cp);
						p += 4;
						break;
					}
				default:
					appendPQExpBufferChar(out, *p);
			}
			p++;
		}
	}
	else
		appendBinaryPQExpBuffer(out, v, len);
	strlcpy(buf, out->data, buflen);
	destroyPQExpBuffer(out);
	return true;
}

/* Append s as a JSON string, quotes included. */
void
json_append_string(PQExpBuffer buf, const char *s)
{
	appendPQExpBufferChar(buf, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '"':
				appendPQExpBufferStr(buf, "\\\"");
				break;
			case '\\':
				appendPQExpBufferStr(buf, "\\\\");
				break;
			case '\n':
				appendPQExpBufferStr(buf, "\\n");
				break;
			case '\r':
				appendPQExpBufferStr(buf, "\\r");
				break;
			case '\t':
				appendPQExpBufferStr(buf, "\\t");
				break;
			default:
				if (c < 0x20)
					appendPQExpBuffer(buf, "\\u%04x", c);
				else
					appendPQExpBufferChar(buf, (char) c);
		}
	}
	appendPQExpBufferChar(buf, '"');
}
