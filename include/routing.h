/*
 * routing.h
 *	  Routing scores: components, weights and the candidate record.
 */
#ifndef ROUTING_H
#define ROUTING_H

#include "postgres.h"

#include "skillset.h"

/* The score's components, in the fixed order they are summed */
typedef enum RoutingComponent
{
	RC_MATCH = 0,
	RC_LOAD,
	RC_AVAILABILITY,
	RC_REGION,
	RC_EXPERIENCE,
	RC_CONTINUITY,
	RC_NCOMPONENTS
} RoutingComponent;

/* Scores are rounded to this many parts so that ties are exact */
#define ROUTING_SCORE_SCALE 1e9

/* One agent being scored */
typedef struct RoutingCandidate
{
	int64		agent_id;
	double		components[RC_NCOMPONENTS];
	double		score;
	bool		preferred;		/* the request's preferred helper */
	bool		round_robin;	/* ordered by turn, not by score */
	double		order_key;		/* least_loaded / round_robin order, or 0 */
} RoutingCandidate;

#endif							/* ROUTING_H */
