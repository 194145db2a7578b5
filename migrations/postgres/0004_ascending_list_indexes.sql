-- The list indexes of 0001, the same columns in ascending order. The list still reads
-- newest first: both databases walk an index backwards as cheaply as forwards, for
-- `ORDER BY created_at DESC, id DESC` and for the `(created_at, id) < cursor` bound alike.
--
-- Why: new entries arrive in time order (calls are created in time order, and are
-- mostly confirmed or cancelled in the order they were placed). Kept ascending, each new
-- entry lands at the right edge of its range, where a full page is split once and left
-- full; kept descending, every one lands at the left edge, where SQLite splits a page into
-- two half-full ones again and again. Every webhook that changes a status moves its call in
-- `calls_status_created`, so this is part of the hot path's write (bench/README.md).
DROP INDEX calls_created;
DROP INDEX calls_status_created;
DROP INDEX calls_order_created;
CREATE INDEX calls_created ON calls (created_at, id);
CREATE INDEX calls_status_created ON calls (status, created_at, id);
CREATE INDEX calls_order_created ON calls (order_id, created_at, id);
