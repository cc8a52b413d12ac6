-- who I meet: most played opponents, nemeses (lowest score, ≥ 5 games), best wins, worst losses
with player_games as (
    select
        time_class, color, result, score, expected, opponent_rating, url, end_time, game_id, rated,
        lower(opponent) as opponent_key, opponent
    from player_games
    where opponent is not null
),

per_opponent as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        opponent_key,
        arg_max(opponent, (end_time, game_id)) as opponent,
        results_block(result, score, expected) as results,
        avg(opponent_rating) as opponent_rating,
        max(end_time) as end_time
    from player_games
    group by grouping sets ((time_class, color, opponent_key), (time_class, opponent_key), (color, opponent_key),
        (opponent_key))
),

ranked_opponents as (
    select
        per_opponent.*,
        row_number() over (
            partition by time_class, color
            order by results.games desc, results.score, opponent_key
        ) as played_rank,
        case when results.games >= 5 then row_number() over (
            partition by time_class, color, results.games >= 5
            order by results.score, results.games desc, opponent_key
        ) end as nemesis_rank
    from per_opponent
),

-- single games: a group's sequence cannot be rolled up, so each game is laid out once per group
expanded as (
    select time_class as time_class, color as color, * exclude (time_class, color) from player_games
    union all
    select time_class as time_class, 'all' as color, * exclude (time_class, color) from player_games
    union all
    select 'all' as time_class, color as color, * exclude (time_class, color) from player_games
    union all
    select 'all' as time_class, 'all' as color, * exclude (time_class, color) from player_games
),

ranked_games as (
    -- rated games only: an unrated loss to a bot listed as rating 1 is not a "worst loss"
    select
        expanded.*,
        case when result = 'win' then row_number() over (
            partition by time_class, color, result = 'win'
            order by opponent_rating desc, end_time, game_id
        ) end as best_win_rank,
        case when result = 'loss' then row_number() over (
            partition by time_class, color, result = 'loss'
            order by opponent_rating, end_time, game_id
        ) end as worst_loss_rank
    from expanded
    where coalesce(rated, true) and opponent_rating is not null
),

listed as (
    select
        time_class, color, 'most_played' as kind, played_rank as rank, opponent, results,
        opponent_rating, null as url, end_time
    from ranked_opponents
    where played_rank <= 20
    union all
    select
        time_class, color, 'nemesis' as kind, nemesis_rank as rank, opponent, results,
        opponent_rating, null as url, end_time
    from ranked_opponents
    where nemesis_rank <= 5
    union all
    select
        time_class, color, 'best_win' as kind, best_win_rank as rank, opponent,
        game_results_block(result, score, expected) as results, opponent_rating, url, end_time
    from ranked_games
    where best_win_rank <= 10
    union all
    select
        time_class, color, 'worst_loss' as kind, worst_loss_rank as rank, opponent,
        game_results_block(result, score, expected) as results, opponent_rating, url, end_time
    from ranked_games
    where worst_loss_rank <= 10
),

final as (
    select
        $username as username,
        time_class,
        color,
        kind,
        rank,
        opponent,
        unnest(results),
        opponent_rating,
        url,
        end_time
    from listed
)

select * from final
order by time_class, color, kind, rank
