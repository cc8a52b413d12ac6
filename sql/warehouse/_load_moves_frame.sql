-- the player's rows of the registered moves_frame (an in-memory polars frame), only the columns
-- the moves table has; columns the frame lacks stay null
insert into moves by name
select columns(lambda c: list_contains($columns, c))
from moves_frame
where lower(username) = $username
