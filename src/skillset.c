/*-------------------------------------------------------------------------
 *
 * skillset.c
 *	  I/O, comparison, set operators, functions and jsonb casts of the
 *	  swarm.skillset data type.
 *
 * Text input, binary receive and the jsonb cast all collect (name, level)
 * items and hand them to skillset_build(), the one place that folds names
 * and enforces the rules of the type; they differ only in how a rejected
 * value is reported (see SkillSetSource).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "skillset.h"

/*
 * Where a skillset being built comes from.  It decides the SQLSTATE and the
 * primary message of a rejection; the detail comes from the failed rule.
 */
typedef struct SkillSetSource
{
	int			sqlerrcode;		/* SQLSTATE of a rejection */
	const char *input;			/* text input, or NULL */
	Jsonb	   *jsonb;			/* jsonb input, or NULL */
} SkillSetSource;

/* One skill collected from an input, before validation */
typedef struct SkillItem
{
	char	   *name;			/* name bytes as given (writable) */
	int			namelen;		/* length of name in bytes */
	int			level;			/* level, saturated when huge */
	const char *level_text;		/* level as written for messages, or NULL */
	int			level_textlen;	/* length of level_text */
} SkillItem;

/* The largest number of skills one value can be built from */
#define SKILLSET_MAX_SKILLS ((int) (MaxAllocSize / sizeof(SkillItem)))

/* Report a rejected skillset value; the variadic part is the errdetail */
#define skillset_reject(src, ...) \
	ereport(ERROR, \
			(errcode((src)->sqlerrcode), \
			 skillset_errmsg(src), \
			 errdetail(__VA_ARGS__)))

PG_FUNCTION_INFO_V1(skillset_in);
PG_FUNCTION_INFO_V1(skillset_out);
PG_FUNCTION_INFO_V1(skillset_recv);
PG_FUNCTION_INFO_V1(skillset_send);
PG_FUNCTION_INFO_V1(skillset_eq);
PG_FUNCTION_INFO_V1(skillset_ne);
PG_FUNCTION_INFO_V1(skillset_lt);
PG_FUNCTION_INFO_V1(skillset_le);
PG_FUNCTION_INFO_V1(skillset_gt);
PG_FUNCTION_INFO_V1(skillset_ge);
PG_FUNCTION_INFO_V1(skillset_cmp);
PG_FUNCTION_INFO_V1(skillset_hash);
PG_FUNCTION_INFO_V1(skillset_hash_extended);
PG_FUNCTION_INFO_V1(skillset_contains);
PG_FUNCTION_INFO_V1(skillset_contained);
PG_FUNCTION_INFO_V1(skillset_overlaps);
PG_FUNCTION_INFO_V1(skillset_skill_level);
PG_FUNCTION_INFO_V1(skillset_skill_names);
PG_FUNCTION_INFO_V1(skillset_skills);
PG_FUNCTION_INFO_V1(skillset_match);
PG_FUNCTION_INFO_V1(skillset_to_jsonb);
PG_FUNCTION_INFO_V1(jsonb_to_skillset);


/* Set the primary message of a rejection according to the value's source */
static int
skillset_errmsg(const SkillSetSource *src)
{
	if (src->input != NULL)
		return errmsg("invalid input syntax for type %s: \"%s\"",
					  "skillset", src->input);
	if (src->jsonb != NULL)
		return errmsg("invalid input syntax for type %s: \"%s\"",
					  "skillset",
					  JsonbToCString(NULL, &src->jsonb->root,
									 VARSIZE(src->jsonb)));
	return errmsg("invalid external skillset binary representation");
}

/* Is c whitespace that may surround items, names, colons and levels? */
static inline bool
skill_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is c allowed in a bare (unquoted) skill name? */
static inline bool
skill_is_bare_char(char c)
{
	return IS_HIGHBIT_SET(c) ||
		(c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') ||
		c == '_' || c == '-' || c == '.' || c == '+' || c == '#' || c == '/';
}

/* Fold the ASCII letters of a name to lower case; other bytes are kept */
static inline void
skill_name_fold(char *dst, const char *src, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		dst[i] = (char) pg_ascii_tolower((unsigned char) src[i]);
}

/* Compare two skill names: byte by byte, then the shorter one first */
static inline int
skill_name_cmp(const char *a, int alen, const char *b, int blen)
{
	int			cmp = memcmp(a, b, Min(alen, blen));

	if (cmp != 0)
		return cmp;
	if (alen < blen)
		return -1;
	if (alen > blen)
		return 1;
	return 0;
}

/* Compare the names of entry i of a and entry j of b */
static inline int
skill_entry_cmp(const SkillSet *a, int i, const SkillSet *b, int j)
{
	return skill_name_cmp(SKILLSET_NAME(a, i), a->entries[i].name_len,
						  SKILLSET_NAME(b, j), b->entries[j].name_len);
}

/* qsort comparator for SkillItems, by name */
static int
skill_item_cmp(const void *a, const void *b)
{
	const SkillItem *ia = (const SkillItem *) a;
	const SkillItem *ib = (const SkillItem *) b;

	return skill_name_cmp(ia->name, ia->namelen, ib->name, ib->namelen);
}

/* Validate collected items and build the canonical skillset from them */
static SkillSet *
skillset_build(SkillItem *items, int nitems, const SkillSetSource *src)
{
	Size		namesbytes = 0;
	Size		size;
	char	   *folded_start;
	char	   *folded;
	char	   *names;
	SkillSet   *result;
	uint32		off;
	int			i;

	/*
	 * This is the single home of the type's rules: names are folded, must be
	 * 1..SKILLSET_MAX_NAME_LEN bytes without NUL bytes, levels must be within
	 * SKILLSET_MIN_LEVEL..SKILLSET_MAX_LEVEL, and (after folding) no name may
	 * appear twice.  Items may come in any order; they are sorted here.  The
	 * items array is reordered and its names are repointed to folded copies.
	 */

	for (i = 0; i < nitems; i++)
		namesbytes += items[i].namelen;

	/* Fold all names into one buffer, checking items in input order */
	folded_start = folded = palloc(namesbytes + 1);
	for (i = 0; i < nitems; i++)
	{
		SkillItem  *item = &items[i];

		if (item->namelen == 0)
			skillset_reject(src, "Skill name is empty.");
		skill_name_fold(folded, item->name, item->namelen);
		item->name = folded;
		folded += item->namelen;

		if (item->namelen > SKILLSET_MAX_NAME_LEN)
			skillset_reject(src, "Skill name \"%.*s\" is longer than %d bytes.",
							item->namelen, item->name, SKILLSET_MAX_NAME_LEN);
		if (memchr(item->name, '\0', item->namelen) != NULL)
			skillset_reject(src, "Skill name contains a null byte.");
		if (item->level < SKILLSET_MIN_LEVEL ||
			item->level > SKILLSET_MAX_LEVEL)
		{
			if (item->level_text != NULL)
				skillset_reject(src, "Level %.*s of skill \"%.*s\" is outside %d..%d.",
								item->level_textlen, item->level_text,
								item->namelen, item->name,
								SKILLSET_MIN_LEVEL, SKILLSET_MAX_LEVEL);
			else
				skillset_reject(src, "Level %d of skill \"%.*s\" is outside %d..%d.",
								item->level,
								item->namelen, item->name,
								SKILLSET_MIN_LEVEL, SKILLSET_MAX_LEVEL);
		}
	}

	if (nitems > 1)
		qsort(items, nitems, sizeof(SkillItem), skill_item_cmp);

	for (i = 1; i < nitems; i++)
	{
		if (skill_item_cmp(&items[i - 1], &items[i]) == 0)
			skillset_reject(src, "Skill \"%.*s\" appears more than once.",
							items[i].namelen, items[i].name);
	}

	size = offsetof(SkillSet, entries) + (Size) nitems * sizeof(SkillEntry) +
		namesbytes;
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("skillset is too large"),
				 errdetail("A skillset cannot exceed %zu bytes.",
						   (Size) MaxAllocSize)));

	result = (SkillSet *) palloc0(size);
	SET_VARSIZE(result, size);
	result->nskills = nitems;
	names = SKILLSET_NAMES(result);
	off = 0;
	for (i = 0; i < nitems; i++)
	{
		SkillEntry *entry = &result->entries[i];

		entry->name_off = off;
		entry->name_len = (uint8) items[i].namelen;
		entry->level = (uint8) items[i].level;
		entry->reserved = 0;
		memcpy(names + off, items[i].name, items[i].namelen);
		off += items[i].namelen;
	}

	pfree(folded_start);
	return result;
}

/* Append one more item slot to a growing array, enlarging it as needed */
static SkillItem *
skill_items_add(SkillItem **items, int *nitems, int *maxitems)
{
	if (*nitems >= *maxitems)
	{
		if (*nitems >= SKILLSET_MAX_SKILLS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of skills exceeds the maximum allowed (%d)",
							SKILLSET_MAX_SKILLS)));
		*maxitems = Min(*maxitems * 2, SKILLSET_MAX_SKILLS);
		*items = (SkillItem *) repalloc(*items,
										(Size) *maxitems * sizeof(SkillItem));
	}
	return &(*items)[(*nitems)++];
}

/* Reject the character at p as unexpected, naming its 1-based byte position */
static void skill_unexpected_char(const SkillSetSource *src, const char *p)
			pg_attribute_noreturn();

/* Reject the character at p as unexpected, naming its 1-based byte position */
static void
skill_unexpected_char(const SkillSetSource *src, const char *p)
{
	int			len = pg_mblen(p);

	len = (int) strnlen(p, len);
	skillset_reject(src, "Unexpected character \"%.*s\" at position %d.",
					len, p, (int) (p - src->input) + 1);
}

/* Parse the text form of a skillset and build it */
static SkillSet *
skillset_parse(const char *input)
{
	SkillSetSource src;
	SkillItem  *items;
	int			nitems = 0;
	int			maxitems = 8;
	SkillSet   *result;
	char	   *names;
	char	   *w;
	const char *p = input;

	src.sqlerrcode = ERRCODE_INVALID_TEXT_REPRESENTATION;
	src.input = input;
	src.jsonb = NULL;

	/* Unescaped names never take more room than the input itself */
	names = palloc(strlen(input) + 1);
	w = names;
	items = (SkillItem *) palloc(maxitems * sizeof(SkillItem));

	while (skill_is_space(*p))
		p++;
	if (*p == '\0')
		return skillset_build(items, 0, &src);

	for (;;)
	{
		SkillItem  *item = skill_items_add(&items, &nitems, &maxitems);

		item->name = w;
		item->level = SKILLSET_DEFAULT_LEVEL;
		item->level_text = NULL;
		item->level_textlen = 0;

		/* the name; an empty one is left for skillset_build to reject */
		if (*p == '"')
		{
			p++;
			for (;;)
			{
				if (*p == '\0')
					skillset_reject(&src, "Unterminated quoted skill name.");
				if (*p == '"')
				{
					p++;
					break;
				}
				if (*p == '\\')
				{
					p++;
					if (*p == '\0')
						skillset_reject(&src, "Unterminated quoted skill name.");
					if (*p != '"' && *p != '\\')
						skillset_reject(&src, "Invalid escape in quoted skill name.");
				}
				*w++ = *p++;
			}
		}
		else
		{
			while (skill_is_bare_char(*p))
				*w++ = *p++;
		}
		item->namelen = (int) (w - item->name);

		while (skill_is_space(*p))
			p++;

		/* the optional level */
		if (*p == ':')
		{
			const char *digits;
			int			level = 0;

			p++;
			while (skill_is_space(*p))
				p++;
			if (*p == '\0' || *p == ',')
				skillset_reject(&src, "Missing skill level after \":\".");
			if (!isdigit((unsigned char) *p))
				skill_unexpected_char(&src, p);

			/* keep one digit of a run of zeros for the message */
			while (*p == '0' && isdigit((unsigned char) p[1]))
				p++;
			digits = p;
			while (isdigit((unsigned char) *p))
			{
				/* saturate: anything that large is out of range anyway */
				if (level < 1000)
					level = level * 10 + (*p - '0');
				p++;
			}
			item->level = level;
			item->level_text = digits;
			item->level_textlen = (int) (p - digits);

			while (skill_is_space(*p))
				p++;
		}

		if (*p == '\0')
			break;
		if (*p != ',')
			skill_unexpected_char(&src, p);
		p++;
		while (skill_is_space(*p))
			p++;
	}

	result = skillset_build(items, nitems, &src);
	pfree(items);
	pfree(names);
	return result;
}

/* Text input function */
Datum
skillset_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);

	PG_RETURN_SKILLSET_P(skillset_parse(input));
}

/* Does the name need double quotes in the text form? */
static bool
skill_name_needs_quotes(const char *name, int len)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		if (!skill_is_bare_char(name[i]))
			return true;
	}
	return false;
}

/* Text output function: canonical form, sorted, always name:level */
Datum
skillset_out(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < s->nskills; i++)
	{
		const char *name = SKILLSET_NAME(s, i);
		int			len = s->entries[i].name_len;

		if (i > 0)
			appendBinaryStringInfo(&buf, ", ", 2);
		if (skill_name_needs_quotes(name, len))
		{
			int			j;

			appendStringInfoChar(&buf, '"');
			for (j = 0; j < len; j++)
			{
				if (name[j] == '"' || name[j] == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, name[j]);
			}
			appendStringInfoChar(&buf, '"');
		}
		else
			appendBinaryStringInfo(&buf, name, len);
		appendStringInfoChar(&buf, ':');
		appendStringInfoChar(&buf, (char) ('0' + s->entries[i].level));
	}

	PG_RETURN_CSTRING(buf.data);
}

/* Binary input function: validates exactly like text input */
Datum
skillset_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	SkillSetSource src;
	SkillItem  *items;
	SkillSet   *result;
	int32		count;
	int			i;

	/*
	 * The format is an int32 count, then per skill a uint8 level and an int32
	 * length followed by that many bytes of name in the client encoding.
	 * Skills may come in any order and case; skillset_build sorts and folds.
	 */

	src.sqlerrcode = ERRCODE_INVALID_BINARY_REPRESENTATION;
	src.input = NULL;
	src.jsonb = NULL;

	count = (int32) pq_getmsgint(buf, 4);
	if (count < 0)
		skillset_reject(&src, "Number of skills %d is negative.", count);
	/* each skill takes at least 5 bytes; don't trust a count beyond that */
	if (count > (buf->len - buf->cursor) / 5)
		skillset_reject(&src, "Number of skills %d exceeds the data in the message.",
						count);

	if (count > SKILLSET_MAX_SKILLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of skills exceeds the maximum allowed (%d)",
						SKILLSET_MAX_SKILLS)));

	items = (SkillItem *) palloc((Size) Max(count, 1) * sizeof(SkillItem));
	for (i = 0; i < count; i++)
	{
		SkillItem  *item = &items[i];
		int			rawlen;

		item->level = pq_getmsgbyte(buf);
		item->level_text = NULL;
		item->level_textlen = 0;
		rawlen = (int) pq_getmsgint(buf, 4);
		item->name = pq_getmsgtext(buf, rawlen, &item->namelen);
	}

	result = skillset_build(items, count, &src);
	pfree(items);
	PG_RETURN_SKILLSET_P(result);
}

/* Binary output function; see skillset_recv for the format */
Datum
skillset_send(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, s->nskills);
	for (i = 0; i < s->nskills; i++)
	{
		pq_sendint8(&buf, s->entries[i].level);
		pq_sendcountedtext(&buf, SKILLSET_NAME(s, i), s->entries[i].name_len,
						   false);
	}

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Total order of skillsets (<0, 0, >0); zero iff the sets are equal */
int
skillset_cmp_internal(const SkillSet *a, const SkillSet *b)
{
	int			n = Min(a->nskills, b->nskills);
	int			i;

	/* entries in sorted order by name bytes, then level; then fewer first */

	for (i = 0; i < n; i++)
	{
		int			cmp = skill_entry_cmp(a, i, b, i);

		if (cmp != 0)
			return cmp;
		if (a->entries[i].level != b->entries[i].level)
			return (a->entries[i].level < b->entries[i].level) ? -1 : 1;
	}
	if (a->nskills < b->nskills)
		return -1;
	if (a->nskills > b->nskills)
		return 1;
	return 0;
}

/* Compare the two skillset arguments of a function call, freeing copies */
static int
skillset_cmp_args(FunctionCallInfo fcinfo)
{
	SkillSet   *a = PG_GETARG_SKILLSET_P(0);
	SkillSet   *b = PG_GETARG_SKILLSET_P(1);
	int			result = skillset_cmp_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return result;
}

/* skillset = skillset */
Datum
skillset_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) == 0);
}

/* skillset <> skillset */
Datum
skillset_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) != 0);
}

/* skillset < skillset */
Datum
skillset_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) < 0);
}

/* skillset <= skillset */
Datum
skillset_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) <= 0);
}

/* skillset > skillset */
Datum
skillset_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) > 0);
}

/* skillset >= skillset */
Datum
skillset_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(skillset_cmp_args(fcinfo) >= 0);
}

/* btree support function: three-way comparison */
Datum
skillset_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(skillset_cmp_args(fcinfo));
}

/* hash support function: hash of the canonical bytes */
Datum
skillset_hash(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	Datum		result;

	result = hash_any((unsigned char *) VARDATA(s), VARSIZE(s) - VARHDRSZ);
	PG_FREE_IF_COPY(s, 0);
	return result;
}

/* hash support function: seeded 64-bit hash of the canonical bytes */
Datum
skillset_hash_extended(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);
	Datum		result;

	result = hash_any_extended((unsigned char *) VARDATA(s),
							   VARSIZE(s) - VARHDRSZ, seed);
	PG_FREE_IF_COPY(s, 0);
	return result;
}

/* Does a have every skill of b at a level >= b's?  (a @> b) */
bool
skillset_contains_internal(const SkillSet *a, const SkillSet *b)
{
	int			i = 0;
	int			j;

	for (j = 0; j < b->nskills; j++)
	{
		int			cmp = 1;

		while (i < a->nskills && (cmp = skill_entry_cmp(a, i, b, j)) < 0)
			i++;
		if (i >= a->nskills || cmp != 0)
			return false;
		if (a->entries[i].level < b->entries[j].level)
			return false;
		i++;
	}
	return true;
}

/* Do a and b share at least one skill name, whatever the levels?  (a && b) */
bool
skillset_overlaps_internal(const SkillSet *a, const SkillSet *b)
{
	int			i = 0;
	int			j = 0;

	while (i < a->nskills && j < b->nskills)
	{
		int			cmp = skill_entry_cmp(a, i, b, j);

		if (cmp == 0)
			return true;
		if (cmp < 0)
			i++;
		else
			j++;
	}
	return false;
}

/* skillset @> skillset */
Datum
skillset_contains(PG_FUNCTION_ARGS)
{
	SkillSet   *a = PG_GETARG_SKILLSET_P(0);
	SkillSet   *b = PG_GETARG_SKILLSET_P(1);
	bool		result = skillset_contains_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_BOOL(result);
}

/* skillset <@ skillset */
Datum
skillset_contained(PG_FUNCTION_ARGS)
{
	SkillSet   *a = PG_GETARG_SKILLSET_P(0);
	SkillSet   *b = PG_GETARG_SKILLSET_P(1);
	bool		result = skillset_contains_internal(b, a);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_BOOL(result);
}

/* skillset && skillset */
Datum
skillset_overlaps(PG_FUNCTION_ARGS)
{
	SkillSet   *a = PG_GETARG_SKILLSET_P(0);
	SkillSet   *b = PG_GETARG_SKILLSET_P(1);
	bool		result = skillset_overlaps_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_BOOL(result);
}

/* Level of a skill (name folded like input), or 0 if the set lacks it */
int
skillset_level(const SkillSet *s, const char *name, int len)
{
	char		folded[SKILLSET_MAX_NAME_LEN];
	int			lo = 0;
	int			hi = s->nskills - 1;

	if (len < 1 || len > SKILLSET_MAX_NAME_LEN)
		return 0;
	skill_name_fold(folded, name, len);

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = skill_name_cmp(SKILLSET_NAME(s, mid),
										 s->entries[mid].name_len,
										 folded, len);

		if (cmp == 0)
			return s->entries[mid].level;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

/* Share of the needed proficiency that "have" covers, 1.0 for no need */
double
skillset_match_score(const SkillSet *have, const SkillSet *need)
{
	int64		covered = 0;
	int64		needed = 0;
	int			i = 0;
	int			j;

	for (j = 0; j < need->nskills; j++)
	{
		int			cmp = 1;

		needed += need->entries[j].level;
		while (i < have->nskills && (cmp = skill_entry_cmp(have, i, need, j)) < 0)
			i++;
		if (i < have->nskills && cmp == 0)
		{
			covered += Min(have->entries[i].level, need->entries[j].level);
			i++;
		}
	}

	if (needed == 0)
		return 1.0;
	return (double) covered / (double) needed;
}

/* skill_level(skillset, text): level of one skill, 0 when absent */
Datum
skillset_skill_level(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	text	   *name = PG_GETARG_TEXT_PP(1);
	int			result;

	result = skillset_level(s, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
	PG_FREE_IF_COPY(s, 0);
	PG_FREE_IF_COPY(name, 1);
	PG_RETURN_INT32(result);
}

/* skill_names(skillset): the names as a sorted text[] */
Datum
skillset_skill_names(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	Datum	   *elems;
	int			i;

	if (s->nskills == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));

	elems = (Datum *) palloc(s->nskills * sizeof(Datum));
	for (i = 0; i < s->nskills; i++)
		elems[i] = PointerGetDatum(cstring_to_text_with_len(SKILLSET_NAME(s, i),
															s->entries[i].name_len));

	PG_RETURN_ARRAYTYPE_P(construct_array(elems, s->nskills, TEXTOID,
										  -1, false, TYPALIGN_INT));
}

/* skills(skillset): one (name, level) row per skill, sorted by name */
Datum
skillset_skills(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	int			i;

	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < s->nskills; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(SKILLSET_NAME(s, i),
															 s->entries[i].name_len));
		values[1] = Int32GetDatum(s->entries[i].level);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/* match_score(have, need): see skillset_match_score */
Datum
skillset_match(PG_FUNCTION_ARGS)
{
	SkillSet   *have = PG_GETARG_SKILLSET_P(0);
	SkillSet   *need = PG_GETARG_SKILLSET_P(1);
	double		result = skillset_match_score(have, need);

	PG_FREE_IF_COPY(have, 0);
	PG_FREE_IF_COPY(need, 1);
	PG_RETURN_FLOAT8(result);
}

/* Cast skillset to jsonb: an object mapping each name to its level */
Datum
skillset_to_jsonb(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < s->nskills; i++)
	{
		JsonbValue	key;
		JsonbValue	val;

		key.type = jbvString;
		key.val.string.val = SKILLSET_NAME(s, i);
		key.val.string.len = s->entries[i].name_len;
		pushJsonbValue(&state, WJB_KEY, &key);

		val.type = jbvNumeric;
		val.val.numeric = int64_to_numeric(s->entries[i].level);
		pushJsonbValue(&state, WJB_VALUE, &val);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);

	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* Cast jsonb to skillset: the object's keys are names, its values levels */
Datum
jsonb_to_skillset(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	SkillSetSource src;
	SkillItem  *items;
	SkillItem  *item = NULL;
	SkillSet   *result;
	int			nitems = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	src.sqlerrcode = ERRCODE_INVALID_TEXT_REPRESENTATION;
	src.input = NULL;
	src.jsonb = jb;

	if (!JB_ROOT_IS_OBJECT(jb))
	{
		const char *tname = "array";

		if (JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &v))
			tname = JsonbTypeName(&v);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot cast jsonb %s to type %s",
						tname, "swarm.skillset")));
	}

	items = (SkillItem *) palloc(Max(JB_ROOT_COUNT(jb), 1) * sizeof(SkillItem));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			item = &items[nitems++];
			item->name = v.val.string.val;
			item->namelen = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
		{
			Datum		num;
			bool		overflow = false;

			Assert(item != NULL);
			if (v.type != jbvNumeric)
				skillset_reject(&src, "Level of skill \"%.*s\" is a jsonb %s, not a number.",
								item->namelen, item->name, JsonbTypeName(&v));

			num = NumericGetDatum(v.val.numeric);
			item->level_text = DatumGetCString(DirectFunctionCall1(numeric_out, num));
			item->level_textlen = (int) strlen(item->level_text);
			if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num,
												  DirectFunctionCall2(numeric_trunc, num,
																	  Int32GetDatum(0)))))
				skillset_reject(&src, "Level %s of skill \"%.*s\" is not an integer.",
								item->level_text, item->namelen, item->name);
			item->level = numeric_int4_opt_error(v.val.numeric, &overflow);
			if (overflow)
				item->level = PG_INT32_MAX;
		}
	}

	result = skillset_build(items, nitems, &src);
	pfree(items);
	PG_RETURN_SKILLSET_P(result);
}
