-- the drill-down's page order within one player (newest first, game_id breaking ties); sqlite
-- sorts nulls lowest, so desc already puts games without an end time last
create index games_drilldown on games (username, end_time desc, game_id);
