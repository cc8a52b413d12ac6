-- my rating over time: per day (in the player's time zone) and time class, rated games only
with rated_games as (
    -- unrated games do not move the rating
    select
        tc, result, score, expected, rating, end_time, game_id,
        cast(timezone($timezone, end_time) as date) as local_day
    from pg
    where coalesce(rated, true) and rating is not null and end_time is not null
),

grouped as (
    select
        label(grouping(tc), tc) as time_class,
        local_day as day,
        count(*) as games,
        count(*) filter (where result = 'win') as wins,
        count(*) filter (where result = 'draw') as draws,
        count(*) filter (where result = 'loss') as losses,
        avg(score) as score,
        stddev_samp(score) as score_sd,
        avg(expected) as expected_score,
        avg(score - expected) as residual,
        -- ratings of different time classes are separate pools: none for time_class `all`
        case when grouping(tc) = 0 then arg_min(rating, (end_time, game_id)) end as rating_open,
        case when grouping(tc) = 0 then arg_max(rating, (end_time, game_id)) end as rating_close,
        case when grouping(tc) = 0 then min(rating) end as rating_min,
        case when grouping(tc) = 0 then max(rating) end as rating_max
    from rated_games
    group by grouping sets ((tc, local_day), (local_day))
),

final as (
    select
        $username as username,
        time_class,
        'all' as color,
        day,
        games,
        wins,
        draws,
        losses,
        score,
        score_interval_low(score, score_sd, games) as score_low,
        score_interval_high(score, score_sd, games) as score_high,
        expected_score,
        residual,
        games < 10 as low_sample,
        rating_open,
        rating_close,
        rating_min,
        rating_max
    from grouped
)

select * from final
order by time_class, day
