-- how I do against stronger and weaker players: by rating difference (opponent − me)
with rated_pairs as (
    -- the difference needs both pre-game ratings; games without them are left out
    select tc, co, result, score, expected, rating_diff
    from pg
    where has_ratings
),

bucketed as (
    select
        tc, co, result, score, expected, rating_diff,
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
        tc, co, result, score, expected, rating_diff,
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
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        scheme,
        bucket,
        min(bucket_order) as bucket_order,
        results_block(result, score, expected) as results,
        avg(rating_diff) as mean_rating_diff
    from bucketed
    group by grouping sets (
        (tc, co, scheme, bucket), (tc, scheme, bucket), (co, scheme, bucket), (scheme, bucket)
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
