-- how I do against stronger and weaker players: by rating difference (opponent − me)
with rated_pairs as (
    -- the difference needs both pre-game ratings; games without them are left out
    select time_class, color, result, score, expected, rating_diff
    from player_games
    where has_ratings
),

bucketed as (
    select
        time_class, color, result, score, expected, rating_diff,
        'coarse' as scheme,
        case
            when rating_diff < -200 then '< -200'
            when rating_diff < -100 then '-200..-100'
            when rating_diff <= 100 then '-100..100'
            when rating_diff <= 200 then '100..200'
            else '> 200'
        end as bucket,
        case
            when rating_diff < -200 then -1000
            when rating_diff < -100 then -200
            when rating_diff <= 100 then -100
            when rating_diff <= 200 then 100
            else 200
        end as bucket_order
    from rated_pairs
    union all
    select
        time_class, color, result, score, expected, rating_diff,
        'bin50' as scheme,
        case
            when rating_diff < -400 then '< -400'
            when rating_diff >= 400 then '>= 400'
            else cast(cast(floor(rating_diff / 50) * 50 as integer) as varchar) || '..'
                || cast(cast(floor(rating_diff / 50) * 50 + 50 as integer) as varchar)
        end as bucket,
        cast(greatest(-450, least(400, floor(rating_diff / 50) * 50)) as integer) as bucket_order
    from rated_pairs
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        scheme,
        bucket,
        min(bucket_order) as bucket_order,
        results_block(result, score, expected) as results,
        avg(rating_diff) as mean_rating_diff
    from bucketed
    group by grouping sets (
        (time_class, color, scheme, bucket), (time_class, scheme, bucket), (color, scheme, bucket), (scheme, bucket)
    )
),

final as (
    select
        $username as username,
        time_class,
        color,
        scheme,
        bucket,
        bucket_order,
        unnest(results),
        mean_rating_diff
    from grouped
)

select * from final
order by time_class, color, scheme, bucket_order
