-- bench/sla/inputs.sql: the calendar benchmark's inputs, the same for swarm
-- and for the reference.  psql variables: n (number of rows).
--
-- start: 80% uniform over 2024-2025 (so weekends, evenings, lunch breaks and
--   holidays in their natural share), 10% in the four weeks around the
--   daylight-saving changes of Europe/Berlin, 10% on one of the holidays;
--   microsecond precision.
-- amount: log-uniform from 1 minute to 3 working weeks (112.5 h), given
--   as hours and minutes; 5% of them written with a days field
--   ('2 days 03:10', a day counting 24 hours); 0.5% zero.
-- to_ts (for business_time): start plus a uniform -14 .. +42 days, so 25%
--   of the spans are negative.

SELECT setseed(0.4242);

CREATE TABLE bench_ref.inputs (
    id      integer PRIMARY KEY,
    start   timestamptz NOT NULL,
    amount  interval NOT NULL,
    to_ts   timestamptz NOT NULL
);

INSERT INTO bench_ref.inputs (id, start, amount, to_ts)
SELECT id, start,
       CASE WHEN a < 0.005 THEN interval '0'
            WHEN a < 0.055 THEN make_interval(days => (mins / 1440)::int, mins => (mins % 1440)::int)
            ELSE make_interval(mins => mins::int) END,
       start + (random() * 56 - 14) * interval '1 day'
  FROM (SELECT id, a,
               floor(exp(random() * ln(6750)))::bigint AS mins,
               CASE WHEN k < 0.8 THEN timestamptz '2024-01-01 00:00 Europe/Berlin' + random() * interval '731 days'
                    WHEN k < 0.9 THEN (ARRAY[timestamptz '2024-03-28 00:00 Europe/Berlin', '2024-10-24 00:00 Europe/Berlin',
                                             '2025-03-27 00:00 Europe/Berlin', '2025-10-23 00:00 Europe/Berlin'])
                                      [1 + floor(random() * 4)::int] + random() * interval '7 days'
                    ELSE ((h.holidays[1 + floor(random() * 20)::int] + random() * interval '1 day')::timestamp
                          AT TIME ZONE 'Europe/Berlin') END AS start
          FROM (SELECT id, random() AS k, random() AS a FROM generate_series(1, :n) AS id) AS g,
               (SELECT holidays FROM swarm.calendars WHERE name = 'bench-berlin') AS h) AS x;

ANALYZE bench_ref.inputs;
