-- king safety habits: my castling side, the opponent's, when I castle, and the score in each case
with player_games as (
    -- move-based: games with a parse_error or without moves have nothing to read
    select game_id, time_class, color, result, score, expected
    from player_games
    where has_moves
),

castles as (
    select
        m.game_id,
        arg_min(m.castling, m.ply) filter (where m.is_player_move and m.castling is not null)
            as mine,
        min(m.move_number) filter (where m.is_player_move and m.castling is not null)
            as my_castle_move,
        arg_min(m.castling, m.ply) filter (where not m.is_player_move and m.castling is not null)
            as theirs
    from moves as m
    inner join player_games as g on m.game_id = g.game_id
    group by m.game_id
),

per_game as (
    select
        g.*,
        coalesce(c.mine, 'none') as my_castling,
        coalesce(c.theirs, 'none') as opponent_castling,
        c.my_castle_move,
        c.mine is not null and c.theirs is not null and c.mine <> c.theirs as opposite_sides
    from player_games as g
    left join castles as c on g.game_id = c.game_id
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(my_castling), my_castling) as my_castling,
        label(grouping(opponent_castling), opponent_castling) as opponent_castling,
        results_block(result, score, expected) as results,
        avg(my_castle_move) as mean_castle_move,
        count(*) filter (where opposite_sides) as opposite_side_games
    from per_game
    group by grouping sets (
        (time_class, color, my_castling, opponent_castling), (time_class, my_castling, opponent_castling),
        (color, my_castling, opponent_castling), (my_castling, opponent_castling),
        (time_class, color, my_castling), (time_class, my_castling), (color, my_castling), (my_castling),
        (time_class, color), (time_class), (color), ()
    )
    having count(*) > 0
),

with_totals as (
    select
        grouped.*,
        max(results.games) over (partition by time_class, color) as group_games
    from grouped
),

final as (
    select
        $username as username,
        time_class,
        color,
        my_castling,
        opponent_castling,
        unnest(results),
        group_games,
        results.games / group_games as share,
        wilson_low(results.games, group_games) as share_low,
        wilson_high(results.games, group_games) as share_high,
        mean_castle_move,
        opposite_side_games,
        opposite_side_games / results.games as opposite_side_share,
        wilson_low(opposite_side_games, results.games) as opposite_side_share_low,
        wilson_high(opposite_side_games, results.games) as opposite_side_share_high
    from with_totals
)

select * from final
order by time_class, color, my_castling, opponent_castling
