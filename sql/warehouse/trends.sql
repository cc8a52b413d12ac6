-- am I improving: per month, games, score, residual, mean rating and mean accuracy
with player_games as (
    select tc, co, month, result, score, expected, rating, accuracy
    from pg
    where month is not null
),

grouped as (
    select
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        month,
        grouping(tc) = 1 as mixes_pools,
        results_block(result, score, expected) as results,
        avg(rating) as mean_rating,
        count(accuracy) as reviewed_games,
        avg(accuracy) as mean_accuracy
    from player_games
    group by grouping sets ((tc, co, month), (tc, month), (co, month), (month))
),

final as (
    select
        $username as username,
        time_class,
        color,
        month,
        unnest(results),
        -- ratings of different time classes are different pools: no mean across them
        case when not mixes_pools then mean_rating end as mean_rating,
        reviewed_games,
        mean_accuracy
    from grouped
)

select * from final
order by time_class, color, month
