-- the api's narrow writer role: it may record analyses (POST /v1/analyses) and nothing else.
--
-- not a migration: `chess-patterns db upgrade` never runs this file (its name has no number).
-- run it once by hand, after `db upgrade` created the analyses table (migration 0006), as the
-- role that owns the published tables, on the direct (not pooled) url, e.g.
--     psql "$DATABASE_URL" -f sql/serving/analyses_role.postgresql.sql
-- then set the password (`\password chess_patterns_analyses` in psql, or neon's console) and
-- point the api at it: ANALYSIS_DATABASE_URL=postgresql://chess_patterns_analyses:...@host/db
-- (API_DATABASE_URL stays the read-only reader role of reader_role.postgresql.sql).
--
-- why each statement:
-- * login without a password here: never write a secret into a file under version control.
-- * select, insert, update on analyses only: the api records a request (insert), reads it back
--   (select; the dedupe reads the player's queued or running row) and nothing else; the worker,
--   which claims and finishes analyses (update), runs as the owner with DATABASE_URL. update is
--   granted so that an operator may run a worker under this role too; no delete, no truncate.
-- * select on players only: the freshness check reads the player's snapshot pointer; no other
--   published table, and no write to any of them.
-- * no default privileges: tables created later stay out of reach.
-- * usage on schema public is granted to public by default; granted again in case it was revoked.
--   postgresql 15 and later give public no create on schema public; on 14 and older also run
--   `revoke create on schema public from public;` or the role could create tables.

create role chess_patterns_analyses login;
grant usage on schema public to chess_patterns_analyses;
grant select, insert, update on analyses to chess_patterns_analyses;
grant select on players to chess_patterns_analyses;
