-- the statements of the analyses queue (adapters/analyses.py); not a migration (no number)

-- name: select_analysis
select id, username, game_count, scope, state, created_at, started_at, finished_at, reason,
       snapshot_id
from analyses
where id = :id;

-- name: select_active_analysis
-- the player's queued or running analysis (at most one: the analyses_active index)
select id, username, game_count, scope, state, created_at, started_at, finished_at, reason,
       snapshot_id
from analyses
where username = :username and state in ('queued', 'running');

-- name: insert_analysis
-- a second request for a player already queued or running inserts nothing (analyses_active)
insert into analyses (id, username, game_count, scope, state, client, created_at)
values (:id, :username, :game_count, :scope, 'queued', :client, :created_at)
on conflict do nothing;

-- name: count_queued
select count(*) from analyses where state = 'queued';

-- name: select_player_snapshot
select snapshot_id, published_at from players where username = :username;

-- name: claim_analysis_postgresql
-- the oldest queued analysis, atomically: concurrent workers skip each other's rows
update analyses set state = 'running', started_at = :now
where id = (
    select id from analyses where state = 'queued'
    order by created_at, id limit 1
    for update skip locked
)
returning id, username, game_count, scope, state, created_at, started_at, finished_at, reason,
          snapshot_id;

-- name: claim_analysis_sqlite
-- the oldest queued analysis; the writer's begin immediate makes the select and update one step
update analyses set state = 'running', started_at = :now
where id = (
    select id from analyses where state = 'queued'
    order by created_at, id limit 1
)
returning id, username, game_count, scope, state, created_at, started_at, finished_at, reason,
          snapshot_id;

-- name: finish_analysis
update analyses
set state = :state, finished_at = :now, reason = :reason, snapshot_id = :snapshot_id
where id = :id and state = 'running';

-- name: requeue_stale
-- analyses left running by a worker that stopped (crash, restart) go back to the queue
update analyses set state = 'queued', started_at = null
where state = 'running' and started_at < :before;

-- name: player_xact_lock_postgresql
-- serialises one player's requests (sqlite: begin immediate already does), so that only a
-- request that really queues a new run counts against the player's limit
select pg_advisory_xact_lock(:key);
