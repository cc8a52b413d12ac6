-- when my games are decided: the distribution of plies by result and termination
with player_games as (
    -- plies come from the parsed movetext: unreadable games (parse_error) are left out; games
    -- with zero moves stay (an abandoned game really did end at ply 0)
    select time_class, color, result, coalesce(termination, 'other') as term, plies
    from player_games
    where parse_error is null and plies is not null
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(result), result) as result,
        label(grouping(term), term) as termination,
        count(*) as games,
        avg(plies) as mean_plies,
        min(plies) as min_plies,
        quantile_disc(plies, 0.1) as p10_plies,
        quantile_disc(plies, 0.25) as p25_plies,
        quantile_disc(plies, 0.5) as median_plies,
        quantile_disc(plies, 0.75) as p75_plies,
        quantile_disc(plies, 0.9) as p90_plies,
        max(plies) as max_plies,
        count(*) filter (where plies <= 40) as games_le_40,
        count(*) filter (where plies > 40 and plies <= 80) as games_41_80,
        count(*) filter (where plies > 80 and plies <= 120) as games_81_120,
        count(*) filter (where plies > 120) as games_gt_120
    from player_games
    group by grouping sets (
        (time_class, color, result, term), (time_class, result, term), (color, result, term), (result, term),
        (time_class, color, result), (time_class, result), (color, result), (result),
        (time_class, color), (time_class), (color), ()
    )
    having count(*) > 0
),

final as (
    select
        $username as username,
        time_class,
        color,
        result,
        termination,
        games,
        mean_plies,
        min_plies,
        p10_plies,
        p25_plies,
        median_plies,
        p75_plies,
        p90_plies,
        max_plies,
        games_le_40,
        games_41_80,
        games_81_120,
        games_gt_120,
        games < 10 as low_sample
    from grouped
)

select * from final
order by time_class, color, result, termination
