-- results by time class and colour, rating-adjusted, with both performance ratings
with player_games as (
    select time_class, color, result, score, expected, opponent_rating, has_ratings
    from player_games
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        results_block(result, score, expected) as results,
        count(*) filter (where has_ratings) as games_with_ratings,
        avg(opponent_rating) filter (where opponent_rating is not null) as mean_opponent_rating,
        avg(score) filter (where opponent_rating is not null) as score_vs_known,
        avg(opponent_rating + 1000.0 * (score - 0.5)) filter (where opponent_rating is not null)
            as performance_linear
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
        games_with_ratings,
        mean_opponent_rating,
        mean_opponent_rating + fide_dp(score_vs_known) as performance_fide,
        performance_linear
    from grouped
)

select * from final
order by time_class, color
