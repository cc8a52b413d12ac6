-- throws (a blunder from +2 or better) and missed wins (a move that let +2 go) in analysed games
with player_games as (
    select game_id, time_class, color, result, score, expected
    from player_games
    where has_moves
),

analysed as (
    select p.*
    from player_games as p
    inner join engine_games as e on p.game_id = e.game_id and p.color = e.color
),

per_game as (
    select
        a.game_id, a.time_class, a.color, a.result,
        count(m.ply) filter (where m.cp_before >= 200) as winning_moves,
        count(m.ply) filter (where m.is_throw) as throws,
        count(m.ply) filter (where m.is_missed_win) as missed_wins
    from analysed as a
    left join engine_moves as m on a.game_id = m.game_id and m.is_player_move
    group by a.game_id, a.time_class, a.color, a.result
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        count(*) as analysed_games,
        count(*) filter (where winning_moves > 0) as winning_games,
        sum(winning_moves) as winning_moves,
        count(*) filter (where throws > 0) as throw_games,
        count(*) filter (where throws > 0 and result = 'loss') as throw_games_lost,
        sum(throws) as throws,
        count(*) filter (where missed_wins > 0) as missed_win_games,
        count(*) filter (where missed_wins > 0 and result <> 'win') as missed_win_games_not_won,
        sum(missed_wins) as missed_wins
    from per_game
    group by grouping sets ((time_class, color), (time_class), (color), ())
    having count(*) > 0
),

all_games as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        count(*) as games
    from player_games
    group by grouping sets ((time_class, color), (time_class), (color), ())
),

final as (
    select
        $username as username,
        g.time_class,
        g.color,
        a.games,
        g.analysed_games,
        g.analysed_games / a.games as coverage,
        wilson_low(g.analysed_games, a.games) as coverage_low,
        wilson_high(g.analysed_games, a.games) as coverage_high,
        g.winning_games,
        g.winning_moves,
        g.throws,
        g.throw_games,
        g.throw_games_lost,
        case when g.winning_games > 0 then g.throw_games / g.winning_games end as throw_share,
        wilson_low(g.throw_games, g.winning_games) as throw_share_low,
        wilson_high(g.throw_games, g.winning_games) as throw_share_high,
        g.missed_wins,
        g.missed_win_games,
        g.missed_win_games_not_won,
        case when g.winning_games > 0 then g.missed_win_games / g.winning_games end
            as missed_win_share,
        wilson_low(g.missed_win_games, g.winning_games) as missed_win_share_low,
        wilson_high(g.missed_win_games, g.winning_games) as missed_win_share_high,
        g.winning_games < 10 as low_sample
    from grouped as g
    inner join all_games as a on g.time_class = a.time_class and g.color = a.color
)

select * from final
order by time_class, color
