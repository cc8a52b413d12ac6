-- converting and defending without an engine: material edges held, and early queen trades
with player_games as (
    -- move-based: games with a parse_error or without moves have nothing to read
    select game_id, time_class, color, result, score, expected
    from player_games
    where has_moves
),

game_moves as (
    select m.game_id, m.ply, m.move_number, m.is_player_move, m.captured,
        coalesce(m.material_balance, 0) as balance
    from moves as m
    where m.game_id in (select game_id from player_games)
),

edge_plies as (
    -- only the plies with an edge of 3 or more either way; consecutive plies of one side keep
    -- ply - row_number() constant, so each run of the edge is one group (gaps and islands)
    select
        game_id,
        balance >= 3 as is_ahead,
        ply - row_number() over (partition by game_id, balance >= 3 order by ply) as run_id
    from game_moves
    where balance >= 3 or balance <= -3
),

held as (
    select distinct game_id, is_ahead
    from edge_plies
    group by game_id, is_ahead, run_id
    having count(*) >= 4
),

ahead as (
    select game_id from held where is_ahead
),

behind as (
    select game_id from held where not is_ahead
),

queen_trades as (
    -- both queens taken before move 20: one taken by me, one by the opponent
    select game_id
    from game_moves
    where captured = 'q' and move_number < 20
    group by game_id
    having bool_or(is_player_move) and bool_or(not is_player_move)
),

situations as (
    select g.*, 'ahead_3_for_4_plies' as situation
    from player_games as g
    where g.game_id in (select game_id from ahead)
    union all
    select g.*, 'behind_3_for_4_plies' as situation
    from player_games as g
    where g.game_id in (select game_id from behind)
    union all
    select g.*, 'queen_trade_before_move_20' as situation
    from player_games as g
    where g.game_id in (select game_id from queen_trades)
    union all
    select g.*, 'no_queen_trade_before_move_20' as situation
    from player_games as g
    where g.game_id not in (select game_id from queen_trades)
),

eligible as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        count(*) as eligible_games
    from player_games
    group by grouping sets ((time_class, color), (time_class), (color), ())
    having count(*) > 0
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        situation,
        results_block(result, score, expected) as results
    from situations
    group by grouping sets ((time_class, color, situation), (time_class, situation), (color, situation), (situation))
),

rated as (
    select
        grouped.*,
        -- conversion counts wins; resourcefulness counts games not lost; otherwise how often
        case situation
            when 'ahead_3_for_4_plies' then results.wins
            when 'behind_3_for_4_plies' then results.wins + results.draws
            else results.games
        end as successes,
        case
            when situation in ('ahead_3_for_4_plies', 'behind_3_for_4_plies') then results.games
        end as rate_games
    from grouped
),

final as (
    select
        $username as username,
        r.time_class,
        r.color,
        r.situation,
        unnest(r.results),
        coalesce(r.rate_games, e.eligible_games) as rate_n,
        r.successes / coalesce(r.rate_games, e.eligible_games) as rate,
        wilson_low(r.successes, coalesce(r.rate_games, e.eligible_games)) as rate_low,
        wilson_high(r.successes, coalesce(r.rate_games, e.eligible_games)) as rate_high
    from rated as r
    inner join eligible as e on r.time_class = e.time_class and r.color = e.color
)

select * from final
order by time_class, color, situation
