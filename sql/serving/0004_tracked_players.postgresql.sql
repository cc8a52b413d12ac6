-- the roster: players the nightly refresh keeps up to date, each with the time zone its
-- time_of_day summary is computed in (replaces PLAYER_TIMEZONES for a tracked player)
create table tracked_players (
    username text primary key,
    timezone text,
    added_at timestamptz not null
);
