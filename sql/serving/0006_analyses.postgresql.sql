-- the on-demand analyses (POST /v1/analyses) as a queue kept in the published database, so a
-- restart loses nothing queued: the api records requests, a worker claims them one at a time
create table analyses (
    id text primary key,
    username text not null,
    game_count integer,
    scope text not null,
    state text not null,
    client text,
    created_at timestamptz not null,
    started_at timestamptz,
    finished_at timestamptz,
    reason text,
    snapshot_id text
);

-- the worker's claim takes the oldest queued analysis
create index analyses_queued on analyses (state, created_at);

-- at most one queued or running analysis per player: concurrent requests for one player all
-- land on the same row (the dedupe is the database's, not a check then an insert)
create unique index analyses_active on analyses (username) where state in ('queued', 'running');
