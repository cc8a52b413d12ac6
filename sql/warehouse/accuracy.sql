-- chess.com accuracy where games were reviewed: coverage, mean, median, by result, monthly
with player_games as (
    -- a game without accuracies was not reviewed: it counts in coverage only
    select time_class, color, result, month, accuracy, opponent_accuracy
    from player_games
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(result), result) as result,
        label(grouping(month), month) as month,
        count(*) as games,
        count(accuracy) as reviewed_games,
        avg(accuracy) as mean_accuracy,
        stddev_samp(accuracy) as accuracy_sd,
        median(accuracy) as median_accuracy,
        avg(opponent_accuracy) as mean_opponent_accuracy
    from player_games
    group by grouping sets (
        (time_class, color, result), (time_class, result), (color, result), (result),
        (time_class, color), (time_class), (color), (),
        (time_class, month), (month)
    )
    having count(*) > 0
),

final as (
    select
        $username as username,
        time_class,
        color,
        result,
        month,
        games,
        reviewed_games,
        reviewed_games / games as coverage,
        wilson_low(reviewed_games, games) as coverage_low,
        wilson_high(reviewed_games, games) as coverage_high,
        mean_accuracy,
        mean_low(mean_accuracy, accuracy_sd, reviewed_games, 0.0, 100.0) as mean_accuracy_low,
        mean_high(mean_accuracy, accuracy_sd, reviewed_games, 0.0, 100.0) as mean_accuracy_high,
        median_accuracy,
        mean_opponent_accuracy,
        reviewed_games < 10 as low_sample
    from grouped
)

select * from final
order by time_class, color, result, month
