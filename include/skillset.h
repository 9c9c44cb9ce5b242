/*-------------------------------------------------------------------------
 *
 * skillset.h
 *	  Declarations for the swarm.skillset data type: a set of skills, each
 *	  with a proficiency level 1..5.
 *
 * A skillset is a varlena holding a sorted array of SkillEntry followed by
 * a names area.  Names are stored case-folded (ASCII letters only), are
 * 1..SKILLSET_MAX_NAME_LEN bytes long, contain no NUL byte and are not
 * NUL-terminated; entries are sorted by name bytes (memcmp, then shorter
 * first) with no duplicates.  Reserved fields and padding are zero, so two
 * equal sets are byte-identical.  C code may read the layout directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SKILLSET_H
#define SKILLSET_H

#include "fmgr.h"

/* Limits of the type */
#define SKILLSET_MAX_NAME_LEN	63
#define SKILLSET_MIN_LEVEL		1
#define SKILLSET_MAX_LEVEL		5
#define SKILLSET_DEFAULT_LEVEL	3

typedef struct SkillEntry
{
	uint32		name_off;		/* offset into the names area */
	uint8		name_len;		/* length of the name in bytes */
	uint8		level;			/* proficiency, 1..5 */
	uint16		reserved;		/* always 0 */
} SkillEntry;

typedef struct SkillSet
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		nskills;		/* number of entries */
	SkillEntry	entries[FLEXIBLE_ARRAY_MEMBER];
	/* then the names area, not NUL-terminated */
} SkillSet;

#define SKILLSET_NAMES(s)		((char *) &(s)->entries[(s)->nskills])
#define SKILLSET_NAME(s, i)		(SKILLSET_NAMES(s) + (s)->entries[i].name_off)

#define DatumGetSkillSetP(d)		((SkillSet *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SKILLSET_P(n)		DatumGetSkillSetP(PG_GETARG_DATUM(n))
#define PG_RETURN_SKILLSET_P(x)		PG_RETURN_POINTER(x)

/* Sum over need of min(have level, need level) / sum of need levels; 1.0 if need is empty */
extern double skillset_match_score(const SkillSet *have, const SkillSet *need);

/* Level of a skill (name folded like input), or 0 if the set lacks it */
extern int	skillset_level(const SkillSet *s, const char *name, int len);

/* Total order of skillsets: <0, 0, >0 */
extern int	skillset_cmp_internal(const SkillSet *a, const SkillSet *b);

/* Does a have every skill of b at a level >= b's (a @> b)? */
extern bool skillset_contains_internal(const SkillSet *a, const SkillSet *b);

/* Do a and b share at least one skill name (a && b)? */
extern bool skillset_overlaps_internal(const SkillSet *a, const SkillSet *b);

#endif							/* SKILLSET_H */
