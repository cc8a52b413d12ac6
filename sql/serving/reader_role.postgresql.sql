-- the api's own postgresql role: it may read the published tables and nothing else.
--
-- not a migration: `chess-patterns db upgrade` never runs this file (its name has no number).
-- run it once by hand, as the role that owns the published tables (the one that runs
-- `chess-patterns db upgrade`), on the direct (not pooled) url, e.g.
--     psql "$DATABASE_URL" -f sql/serving/reader_role.postgresql.sql
-- then set the password (`\password chess_patterns_reader` in psql, or neon's console) and
-- point the api at it: API_DATABASE_URL=postgresql://chess_patterns_reader:...@host/db
-- (the pooled endpoint is fine for the api; the role's settings hold through any pooler).
--
-- why each statement:
-- * login without a password here: never write a secret into a file under version control.
-- * default_transaction_read_only: a transaction that does not ask for read write is read-only,
--   applied by the server at session start (no startup option a pooler could refuse).
-- * select on today's tables, and default privileges for tables created later by the owner:
--   `db upgrade` drops and recreates summary_<name> tables when a definition changes, and new
--   summaries add tables; without the default privilege the api would lose access to them.
-- * no insert/update/delete/truncate/create anywhere: even `begin read write` cannot write.
-- * usage on schema public is granted to public by default; granted again in case it was revoked.
--   postgresql 15 and later (neon's default) give public no create on schema public; on 14 and
--   older also run `revoke create on schema public from public;` or the role could create tables.

create role chess_patterns_reader login;
alter role chess_patterns_reader set default_transaction_read_only = on;
grant usage on schema public to chess_patterns_reader;
grant select on all tables in schema public to chess_patterns_reader;
alter default privileges in schema public grant select on tables to chess_patterns_reader;
