-- the engine facts per ply, from the frame registered as engine_moves_frame
insert into engine_moves by name
select columns(lambda c: list_contains($columns, c))
from engine_moves_frame
