/*
 * agent_cache.h
 *	  The routing cache: every agent's routing data held in backend memory,
 *	  kept coherent with swarm.agents, swarm.agent_experience and
 *	  swarm.group_members through a shared-memory log of changed rows.
 */
#ifndef AGENT_CACHE_H
#define AGENT_CACHE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "skillset.h"

/* One row of swarm.agent_experience, as the cache holds it */
typedef struct CachedExperience
{
	char	   *skill;			/* not NUL-terminated */
	int			skill_len;
	double		credit;
	TimestampTz updated_at;
} CachedExperience;

/* An agent's presence, as the cache holds it */
typedef enum CachedPresence
{
	CP_ONLINE,
	CP_AWAY,
	CP_OFFLINE
} CachedPresence;

/*
 * One agent: what routing reads of swarm.agents and swarm.agent_experience.
 * The fields a ranking reads for every candidate come first, so that most
 * candidates cost one cache line.
 */
typedef struct CachedAgent
{
	int64		agent_id;		/* 0 for a slot whose agent was deleted */
	uint32		mark;			/* per-call stamp, see agent_cache_next_mark */
	int32		covered;		/* per call: needed levels covered, see routing.c */
	bool		active;
	CachedPresence presence;
	int32		capacity;
	int32		help_capacity;
	int32		open_cases;
	int32		open_helps;
	int32		nexperience;
	int64		calendar_id;	/* 0 when the agent has no calendar */
	const char *region;			/* interned: equal regions, equal pointers; or NULL */
	CachedExperience *experience;	/* sorted by skill */
	SkillSet   *skills;
} CachedAgent;

/* One agent having a skill, at a level */
typedef struct SkillHolder
{
	int32		slot;
	int32		level;
} SkillHolder;

/* Settings, defined in agent_cache.c */
extern bool swarm_routing_cache;

extern void agent_cache_init(void);
extern bool agent_cache_usable(void);
extern bool agent_cache_refresh(void);
extern CachedAgent *agent_cache_agent(int64 agent_id);
extern CachedAgent *agent_cache_slot(int slot);
extern int	agent_cache_nslots(void);
extern const SkillHolder *agent_cache_with_skill(const char *name, int len, int *n);
extern const char *agent_cache_region(const char *region, bool *known);
extern bool agent_cache_regions_interned(void);
extern const int32 *agent_cache_group(int64 group_id, int *n);
extern uint32 agent_cache_next_mark(void);

#endif							/* AGENT_CACHE_H */
