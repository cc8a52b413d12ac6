-- my rating over time: per day (in the player's time zone) and time class, rated games only
with rated_games as (
    -- unrated games do not move the rating
    select
        time_class, result, score, expected, rating, end_time, game_id,
        cast(timezone($timezone, end_time) as date) as local_day
    from player_games
    where coalesce(rated, true) and rating is not null and end_time is not null
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        local_day as day,
        results_block(result, score, expected) as results,
        -- ratings of different time classes are separate pools: none for time_class `all`
        case when grouping(time_class) = 0 then arg_min(rating, (end_time, game_id)) end as rating_open,
        case when grouping(time_class) = 0 then arg_max(rating, (end_time, game_id)) end as rating_close,
        case when grouping(time_class) = 0 then min(rating) end as rating_min,
        case when grouping(time_class) = 0 then max(rating) end as rating_max
    from rated_games
    group by grouping sets ((time_class, local_day), (local_day))
),

final as (
    select
        $username as username,
        time_class,
        'all' as color,
        day,
        unnest(results),
        rating_open,
        rating_close,
        rating_min,
        rating_max
    from grouped
)

select * from final
order by time_class, day
