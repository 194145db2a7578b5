-- Nothing looks webhooks up by call (de-duplication goes by key, and calls are never
-- deleted, so the cascade never runs), while every webhook paid for this index: one more
-- page written at a random place per webhook, the hot path's write.
DROP INDEX webhook_events_call;
