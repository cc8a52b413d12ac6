-- inaccuracies, mistakes and blunders per 100 of the player's analysed moves, by phase and clock
with player_games as (
    select game_id, time_class, color
    from player_games
    where has_moves
),

analysed as (
    select e.game_id
    from engine_games as e
    inner join player_games as p on e.game_id = p.game_id and e.color = p.color
),

player_moves as (
    select
        p.time_class, p.color, e.game_id,
        coalesce(e.phase, 'unknown') as phase,
        -- the buckets of time_management: <= 3 %, (3, 10], (10, 25], (25, 50), >= 50 %
        case
            when e.clock_share is null then null
            when e.clock_share <= 0.03 then 'le_3'
            when e.clock_share <= 0.10 then '3_10'
            when e.clock_share <= 0.25 then '10_25'
            when e.clock_share < 0.50 then '25_50'
            else 'ge_50'
        end as clock,
        e.judgement
    from engine_moves as e
    inner join player_games as p on e.game_id = p.game_id
    where e.is_player_move and e.game_id in (select game_id from analysed)
),

by_phase as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(phase), phase) as phase,
        'all' as clock_bucket,
        count(distinct game_id) as games,
        count(*) as moves,
        count(*) filter (where judgement = 'inaccuracy') as inaccuracies,
        count(*) filter (where judgement = 'mistake') as mistakes,
        count(*) filter (where judgement = 'blunder') as blunders
    from player_moves
    group by grouping sets (
        (time_class, color, phase), (time_class, phase), (color, phase), (phase),
        (time_class, color), (time_class), (color), ()
    )
),

by_clock as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        'all' as phase,
        clock as clock_bucket,
        count(distinct game_id) as games,
        count(*) as moves,
        count(*) filter (where judgement = 'inaccuracy') as inaccuracies,
        count(*) filter (where judgement = 'mistake') as mistakes,
        count(*) filter (where judgement = 'blunder') as blunders
    from player_moves
    where clock is not null
    group by grouping sets (
        (time_class, color, clock), (time_class, clock), (color, clock), (clock)
    )
),

counted as (
    select * from by_phase where moves > 0
    union all
    select * from by_clock
),

final as (
    select
        $username as username,
        time_class,
        color,
        phase,
        clock_bucket,
        games,
        moves,
        inaccuracies,
        100.0 * inaccuracies / moves as inaccuracies_per_100,
        100.0 * wilson_low(inaccuracies, moves) as inaccuracies_per_100_low,
        100.0 * wilson_high(inaccuracies, moves) as inaccuracies_per_100_high,
        mistakes,
        100.0 * mistakes / moves as mistakes_per_100,
        100.0 * wilson_low(mistakes, moves) as mistakes_per_100_low,
        100.0 * wilson_high(mistakes, moves) as mistakes_per_100_high,
        blunders,
        100.0 * blunders / moves as blunders_per_100,
        100.0 * wilson_low(blunders, moves) as blunders_per_100_low,
        100.0 * wilson_high(blunders, moves) as blunders_per_100_high,
        games < 10 as low_sample
    from counted
)

select * from final
order by time_class, color, phase, clock_bucket
