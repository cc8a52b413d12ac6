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
        count(*) as games,
        count(*) filter (where result = 'win') as wins,
        count(*) filter (where result = 'draw') as draws,
        count(*) filter (where result = 'loss') as losses,
        avg(score) as score,
        stddev_samp(score) as score_sd,
        avg(expected) as expected_score,
        avg(score - expected) as residual,
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
        -- ratings of different time classes are different pools: no mean across them
        case when not mixes_pools then mean_rating end as mean_rating,
        reviewed_games,
        mean_accuracy
    from grouped
)

select * from final
order by time_class, color, month
