/*-------------------------------------------------------------------------
 *
 * skillset_gin.c
 *	  GIN support for swarm.skillset: the index keys are the skill names.
 *
 * Keys are text values compared with bttext_pattern_cmp (plain byte
 * order, independent of collation).  Levels are not indexed: @> finds the
 * rows that have all the wanted names and rechecks the levels on the heap,
 * while && only cares about names and so is answered exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/gin.h"
#include "access/stratnum.h"
#include "utils/builtins.h"

#include "skillset.h"

/* Strategy numbers of the operator class */
#define SkillSetOverlapStrategyNumber	1	/* && */
#define SkillSetContainsStrategyNumber	2	/* @> */

PG_FUNCTION_INFO_V1(skillset_gin_extract_value);
PG_FUNCTION_INFO_V1(skillset_gin_extract_query);
PG_FUNCTION_INFO_V1(skillset_gin_consistent);
PG_FUNCTION_INFO_V1(skillset_gin_triconsistent);


/* Make an array of text keys holding every skill name of s */
static Datum *
skillset_gin_keys(const SkillSet *s, int32 *nkeys)
{
	Datum	   *keys;
	int			i;

	*nkeys = s->nskills;
	if (s->nskills == 0)
		return NULL;

	keys = (Datum *) palloc(s->nskills * sizeof(Datum));
	for (i = 0; i < s->nskills; i++)
		keys[i] = PointerGetDatum(cstring_to_text_with_len(SKILLSET_NAME(s, i),
														   s->entries[i].name_len));
	return keys;
}

/* extractValue: the keys of an indexed skillset are all its names */
Datum
skillset_gin_extract_value(PG_FUNCTION_ARGS)
{
	SkillSet   *s = PG_GETARG_SKILLSET_P(0);
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);

	PG_RETURN_POINTER(skillset_gin_keys(s, nkeys));
}

/* extractQuery: the keys of a query are its names, for @> and && alike */
Datum
skillset_gin_extract_query(PG_FUNCTION_ARGS)
{
	SkillSet   *query = PG_GETARG_SKILLSET_P(0);
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);
	StrategyNumber strategy = PG_GETARG_UINT16(2);
	int32	   *searchMode = (int32 *) PG_GETARG_POINTER(6);
	Datum	   *keys;

	keys = skillset_gin_keys(query, nkeys);

	switch (strategy)
	{
		case SkillSetContainsStrategyNumber:
			/* every value contains the empty set: scan the whole index */
			if (*nkeys == 0)
				*searchMode = GIN_SEARCH_MODE_ALL;
			break;
		case SkillSetOverlapStrategyNumber:
			/* no keys in default mode: GIN knows nothing can match */
			break;
		default:
			elog(ERROR, "skillset_gin_extract_query: unknown strategy number: %d",
				 strategy);
	}

	PG_RETURN_POINTER(keys);
}

/* consistent: @> needs every key (levels rechecked), && needs any key */
Datum
skillset_gin_consistent(PG_FUNCTION_ARGS)
{
	bool	   *check = (bool *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = PG_GETARG_UINT16(1);
	int32		nkeys = PG_GETARG_INT32(3);
	bool	   *recheck = (bool *) PG_GETARG_POINTER(5);
	bool		result;
	int32		i;

	switch (strategy)
	{
		case SkillSetContainsStrategyNumber:
			*recheck = true;
			result = true;
			for (i = 0; i < nkeys; i++)
			{
				if (!check[i])
				{
					result = false;
					break;
				}
			}
			break;
		case SkillSetOverlapStrategyNumber:
			*recheck = false;
			result = false;
			for (i = 0; i < nkeys; i++)
			{
				if (check[i])
				{
					result = true;
					break;
				}
			}
			break;
		default:
			elog(ERROR, "skillset_gin_consistent: unknown strategy number: %d",
				 strategy);
			result = false;		/* keep compiler quiet */
			break;
	}

	PG_RETURN_BOOL(result);
}

/* triConsistent: the ternary form of skillset_gin_consistent */
Datum
skillset_gin_triconsistent(PG_FUNCTION_ARGS)
{
	GinTernaryValue *check = (GinTernaryValue *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = PG_GETARG_UINT16(1);
	int32		nkeys = PG_GETARG_INT32(3);
	GinTernaryValue result;
	int32		i;

	switch (strategy)
	{
		case SkillSetContainsStrategyNumber:
			/* a match still needs its levels rechecked: at best MAYBE */
			result = GIN_MAYBE;
			for (i = 0; i < nkeys; i++)
			{
				if (check[i] == GIN_FALSE)
				{
					result = GIN_FALSE;
					break;
				}
			}
			break;
		case SkillSetOverlapStrategyNumber:
			result = GIN_FALSE;
			for (i = 0; i < nkeys; i++)
			{
				if (check[i] == GIN_TRUE)
				{
					result = GIN_TRUE;
					break;
				}
				if (check[i] == GIN_MAYBE)
					result = GIN_MAYBE;
			}
			break;
		default:
			elog(ERROR, "skillset_gin_triconsistent: unknown strategy number: %d",
				 strategy);
			result = GIN_FALSE; /* keep compiler quiet */
			break;
	}

	PG_RETURN_GIN_TERNARY_VALUE(result);
}
