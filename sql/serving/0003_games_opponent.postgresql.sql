-- the drill-down's opponent filter (usernames compared case-insensitively): without it a rare
-- opponent means walking all of a player's games in page order to find a few
create index games_opponent on games (username, lower(opponent));
