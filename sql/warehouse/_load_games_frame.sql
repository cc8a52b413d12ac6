-- the player's rows of the registered games_frame (an in-memory polars frame), only the columns
-- the games table has; columns the frame lacks stay null
insert into games by name
select columns(lambda c: list_contains($columns, c))
from games_frame
where lower(username) = $username
