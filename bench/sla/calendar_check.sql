-- bench/sla/calendar_check.sql: swarm's results against the reference's on
-- one share of the inputs (id % :parts = :part), kept in a table so that
-- the driver can count and show mismatches.  Run :parts of these at once.
CREATE TABLE bench_ref.check_:part AS
SELECT i.id, i.start, i.amount, i.to_ts,
       swarm.business_add(i.start, i.amount, 'bench-berlin') AS c_add,
       bench_ref.business_add(i.start, i.amount, 'bench-berlin') AS r_add,
       swarm.business_time(i.start, i.to_ts, 'bench-berlin') AS c_time,
       bench_ref.business_time(i.start, i.to_ts, 'bench-berlin') AS r_time
  FROM bench_ref.inputs AS i
 WHERE i.id % :parts = :part AND i.id <= :limit;
