-- name: select_player
-- the snapshot pointer and profile of one player
select username, snapshot_id, published_at, game_count, first_game_at, last_game_at,
       summaries, published_bytes
from players
where username = :username;

-- name: upsert_player
-- moves the player's snapshot pointer; the last statement of a publish transaction
insert into players (username, snapshot_id, published_at, game_count, first_game_at,
                     last_game_at, summaries, published_bytes)
values (:username, :snapshot_id, :published_at, :game_count, :first_game_at,
        :last_game_at, :summaries, :published_bytes)
on conflict (username) do update set
    snapshot_id = excluded.snapshot_id,
    published_at = excluded.published_at,
    game_count = excluded.game_count,
    first_game_at = excluded.first_game_at,
    last_game_at = excluded.last_game_at,
    summaries = excluded.summaries,
    published_bytes = excluded.published_bytes;

-- name: select_definitions
-- every published summary's definition, version and columns
select name, version, title, definition, columns, table_name
from summary_definitions
order by name;

-- name: upsert_definition
-- records a summary's current definition after its table was (re)built
insert into summary_definitions (name, version, title, definition, columns, table_name,
                                 updated_at)
values (:name, :version, :title, :definition, :columns, :table_name, :updated_at)
on conflict (name) do update set
    version = excluded.version,
    title = excluded.title,
    definition = excluded.definition,
    columns = excluded.columns,
    table_name = excluded.table_name,
    updated_at = excluded.updated_at;

-- name: delete_player_games
-- a publish replaces all of a player's games (no truncate: it is not mvcc-safe)
delete from games
where username = :username;

-- name: count_player_games
-- used to check that an unchanged snapshot is still complete before skipping a publish
select count(*) from games
where username = :username and snapshot_id = :snapshot_id;

-- name: games_bytes_postgresql
-- an estimate of the disk a player's game rows take, heap and indexes (the method is described
-- at adapters/publish.py: _postgres_bytes). per row: the heap tuple (pg_column_size of the row
-- includes its 24-byte header) padded to 8 bytes plus its 4-byte line pointer; per index an
-- entry of 8 header bytes + its keys, padded to 8, plus a line pointer. the index list is
-- sql/serving/0001_core and 0002/0003: primary key (username, game_id), games_drilldown
-- (username, end_time, game_id), games_opponent (username, lower(opponent)); keep it in step.
select
    coalesce(sum((pg_column_size(g.*) + 7) / 8 * 8 + 4), 0) as heap,
    coalesce(sum(
        (8 + pg_column_size(g.username) + pg_column_size(g.game_id) + 7) / 8 * 8 + 4
        + (8 + pg_column_size(g.username) + 8 + pg_column_size(g.game_id) + 7) / 8 * 8 + 4
        + (8 + pg_column_size(g.username) + coalesce(pg_column_size(lower(g.opponent)), 0) + 7)
            / 8 * 8 + 4
    ), 0) as indexes
from games as g
where g.username = :username;

-- name: select_applied_migrations
-- the migrations already applied, with the checksum of what was applied
select name, checksum from schema_migrations;

-- name: insert_migration
-- records an applied migration
insert into schema_migrations (name, checksum, applied_at)
values (:name, :checksum, :applied_at);

-- name: advisory_xact_lock
-- serialises publishes of one player (and migrations); released at commit, so pooler-safe
select pg_advisory_xact_lock(:key);

-- name: begin_read_only
-- every read of the api: one snapshot, and no write can happen in it
begin isolation level repeatable read, read only;

-- name: end_read_only
-- closes a read of the api
rollback;

-- name: ping
-- /readyz: the database answers
select 1;

-- name: select_games_page
-- the drill-down: one page of a player's games (newest first, game_id breaking ties), the
-- player row and the number of matching games, in one statement so all three come from one
-- snapshot; a null parameter means "no such filter" (constant-folded by postgresql, whose
-- parameters the api binds client-side); until_before is the day after `until` (exclusive).
-- a missing value matches the label the summaries give it (sql/warehouse: coalesce to
-- 'unknown' for time class, colour, opening family and eco, 'other' for termination), so every
-- summary bucket can be drilled into.
-- the page is chosen on narrow (end_time, game_id) pairs and only its rows are read whole,
-- so a deep offset sorts a few bytes per game, not whole rows
with matching as not materialized (
    select game_id, end_time
    from games
    where username = :username
      and (:time_class is null or coalesce(time_class, 'unknown') = :time_class)
      and (:color is null or coalesce(color, 'unknown') = :color)
      and (:result is null or result = :result)
      and (:termination is null or coalesce(termination, 'other') = :termination)
      and (:opening_family is null or coalesce(opening_family, 'unknown') = :opening_family)
      and (:eco is null or coalesce(eco, 'unknown') = :eco)
      and (:rated is null or rated = :rated)
      and (:since is null or end_time >= :since)
      and (:until_before is null or end_time < :until_before)
      and (:opponent is null or lower(opponent) = :opponent)
)
select p.username, p.snapshot_id, p.published_at, p.game_count, p.first_game_at,
       p.last_game_at, p.summaries, p.published_bytes,
       (select count(*) from matching) as total,
       g.game_id, g.url, g.end_time, g.time_class, g.color, g.rated, g.rating, g.opponent,
       g.opponent_rating, g.result, g.termination, g.eco, g.opening_family,
       g.opening_variation, g.plies, g.accuracy
from players as p
left join (
    select games.*
    from (
        select game_id from matching
        order by end_time desc nulls last, game_id
        limit :limit offset :offset
    ) as page
    join games on games.username = :username and games.game_id = page.game_id
) as g on true
where p.username = :username
order by g.end_time desc nulls last, g.game_id

-- name: upsert_tracked_player
-- adds a player to the roster, or changes its time zone when it is already there
insert into tracked_players (username, timezone, added_at)
values (:username, :timezone, :added_at)
on conflict (username) do update set
    timezone = coalesce(excluded.timezone, tracked_players.timezone);

-- name: delete_tracked_player
-- takes a player off the roster (its published rows stay)
delete from tracked_players
where username = :username;

-- name: select_tracked_players
-- the roster, in name order
select username, timezone, added_at
from tracked_players
order by username;

-- name: select_tracked_timezone
-- the time zone a tracked player's summaries are computed in (null: the default)
select timezone
from tracked_players
where username = :username;
