-- how much, how well, since when: one row per time class × colour with roll-ups
with player_games as (
    select time_class, color, result, score, expected, rating, end_time, began, duration_seconds
    from player_games
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        grouping(time_class) = 1 as mixes_pools,
        results_block(result, score, expected) as results,
        min(began) as first_game,
        max(end_time) as last_game,
        arg_max(rating, end_time) filter (where rating is not null) as current_rating,
        max(rating) as peak_rating,
        -- a daily game lasts days but is played in minutes: only live games count as time played
        sum(duration_seconds) filter (where time_class <> 'daily') / 3600.0 as hours_played,
        count(duration_seconds) filter (where time_class <> 'daily') as games_with_duration
    from player_games
    group by grouping sets ((time_class, color), (time_class), (color), ())
    having count(*) > 0
),

final as (
    select
        $username as username,
        time_class,
        color,
        unnest(results),
        first_game,
        last_game,
        -- ratings of different time classes are different pools: no single figure for `all`
        case when not mixes_pools then current_rating end as current_rating,
        case when not mixes_pools then peak_rating end as peak_rating,
        hours_played,
        games_with_duration
    from grouped
)

select * from final
order by time_class, color
