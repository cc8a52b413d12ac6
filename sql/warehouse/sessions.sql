-- how long I play in a row: sessions of live games, score by game index, streaks
with session_games as (
    select
        live_sessions.*,
        case when index_in_session >= 10 then '10+' else cast(index_in_session as varchar) end
            as index_label,
        least(index_in_session, 10) as index_order
    from live_sessions
),

by_index as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(index_label), index_label) as game_index,
        coalesce(min(index_order), 0) as index_order,
        count(distinct session_id) as sessions,
        results_block(result, score, expected) as results,
        max(index_in_session) as max_index
    from session_games
    group by grouping sets ((time_class, color, index_label), (time_class, index_label), (color, index_label),
        (index_label), (time_class, color), (time_class), (color), ())
    having count(*) > 0
),

-- streaks run over the group's own games in order, so they cannot be rolled up: each group's
-- sequence is laid out once (time class × colour, time class, colour, everything)
expanded as (
    select time_class as time_class, color as color, result, began, end_time, game_id from live_sessions
    union all
    select time_class as time_class, 'all' as color, result, began, end_time, game_id from live_sessions
    union all
    select 'all' as time_class, color as color, result, began, end_time, game_id from live_sessions
    union all
    select 'all' as time_class, 'all' as color, result, began, end_time, game_id from live_sessions
),

islands as (
    select
        expanded.*,
        row_number() over (partition by time_class, color order by began, end_time, game_id)
        - row_number() over (
            partition by time_class, color, result order by began, end_time, game_id
        ) as run_id
    from expanded
),

runs as (
    select
        time_class, color, result, run_id, count(*) as length,
        max((began, end_time, game_id)) as run_end
    from islands
    group by time_class, color, result, run_id
),

streaks as (
    select
        time_class,
        color,
        coalesce(max(length) filter (where result = 'win'), 0) as longest_win_streak,
        coalesce(max(length) filter (where result = 'loss'), 0) as longest_loss_streak,
        arg_max(length, run_end) as current_streak,
        arg_max(result, run_end) as current_streak_result
    from runs
    group by time_class, color
),

final as (
    select
        $username as username,
        b.time_class,
        b.color,
        b.game_index,
        b.sessions,
        unnest(b.results),
        b.results.games / b.sessions as mean_games_per_session,
        -- streaks describe a whole sequence: given on the game_index = all rows only
        case when b.game_index = 'all' then b.max_index end as longest_session_games,
        case when b.game_index = 'all' then s.longest_win_streak end as longest_win_streak,
        case when b.game_index = 'all' then s.longest_loss_streak end as longest_loss_streak,
        case when b.game_index = 'all' then s.current_streak end as current_streak,
        case when b.game_index = 'all' then s.current_streak_result end as current_streak_result,
        b.index_order
    from by_index as b
    left join streaks as s on b.time_class = s.time_class and b.color = s.color
)

select * exclude (index_order) from final
order by time_class, color, index_order
