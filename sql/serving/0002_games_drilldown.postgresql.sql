-- the drill-down's page order within one player (newest first, game_id breaking ties); filters
-- are checked on the rows this index walks, and counts read the player's rows it points to
create index games_drilldown on games (username, end_time desc nulls last, game_id);
