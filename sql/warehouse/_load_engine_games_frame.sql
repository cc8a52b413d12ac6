-- the engine facts per game and colour, from the frame registered as engine_games_frame
insert into engine_games by name
select columns(lambda c: list_contains($columns, c))
from engine_games_frame
