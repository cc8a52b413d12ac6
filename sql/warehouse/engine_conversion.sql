-- converting engine-winning positions and defending engine-losing ones, in analysed games
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

evaluated_plies as (
    -- the evaluation after each ply, for the player (cp_after is the mover's)
    select
        m.game_id,
        m.ply,
        case when m.is_player_move then m.cp_after else -m.cp_after end as cp
    from engine_moves as m
    where m.game_id in (select game_id from analysed)
),

edge_plies as (
    -- gaps and islands, as in material.sql: consecutive plies of one edge share a run_id
    select
        game_id,
        cp >= 200 as is_winning,
        ply - row_number() over (partition by game_id, cp >= 200 order by ply) as run_id
    from evaluated_plies
    where cp >= 200 or cp <= -200
),

held as (
    select distinct game_id, is_winning
    from edge_plies
    group by game_id, is_winning, run_id
    having count(*) >= 4
),

situations as (
    select a.*, 'winning_2_for_4_plies' as situation
    from analysed as a
    where a.game_id in (select game_id from held where is_winning)
    union all
    select a.*, 'losing_2_for_4_plies' as situation
    from analysed as a
    where a.game_id in (select game_id from held where not is_winning)
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        situation,
        results_block(result, score, expected) as results
    from situations
    group by grouping sets (
        (time_class, color, situation), (time_class, situation), (color, situation), (situation)
    )
),

coverage as (
    select
        label(grouping(p.time_class), p.time_class) as time_class,
        label(grouping(p.color), p.color) as color,
        count(*) as all_games,
        count(a.game_id) as analysed_games
    from player_games as p
    left join analysed as a on p.game_id = a.game_id
    group by grouping sets ((p.time_class, p.color), (p.time_class), (p.color), ())
),

rated as (
    select
        grouped.*,
        -- conversion counts wins; defence (resourcefulness) counts games not lost
        case situation
            when 'winning_2_for_4_plies' then results.wins
            else results.wins + results.draws
        end as successes
    from grouped
),

final as (
    select
        $username as username,
        r.time_class,
        r.color,
        r.situation,
        c.all_games,
        c.analysed_games,
        c.analysed_games / c.all_games as coverage,
        wilson_low(c.analysed_games, c.all_games) as coverage_low,
        wilson_high(c.analysed_games, c.all_games) as coverage_high,
        unnest(r.results),
        r.successes / r.results.games as rate,
        wilson_low(r.successes, r.results.games) as rate_low,
        wilson_high(r.successes, r.results.games) as rate_high
    from rated as r
    inner join coverage as c on r.time_class = c.time_class and r.color = c.color
)

select * from final
order by time_class, color, situation
