-- am I improving: per month, games, score, residual, mean rating and mean accuracy
with player_games as (
    select time_class, color, month, result, score, expected, rating, accuracy
    from player_games
    where month is not null
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        month,
        grouping(time_class) = 1 as mixes_pools,
        results_block(result, score, expected) as results,
        avg(rating) as mean_rating,
        count(accuracy) as reviewed_games,
        avg(accuracy) as mean_accuracy
    from player_games
    group by grouping sets ((time_class, color, month), (time_class, month), (color, month), (month))
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
