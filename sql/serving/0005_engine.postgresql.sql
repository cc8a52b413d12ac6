-- per-game engine figures of the player's side (Lichess' game accuracy and ACPL at the current
-- engine settings), beside chess.com's own accuracy; null until the game is analysed
alter table games add column engine_accuracy double precision;
alter table games add column acpl double precision;
