-- do I play worse after losing: the next game of the same session, by what came before it
with session_games as (
    select * from live_sessions
),

keyed as (
    select time_class, color, result, score, expected, 'result' as kind, prev_result as after, 0 as key_order
    from session_games
    where prev_result is not null
    union all
    select
        time_class, color, result, score, expected, 'loss_streak' as kind,
        case when losses_before >= 3 then '3+' else cast(losses_before as varchar) end as after,
        least(losses_before, 3) as key_order
    from session_games
    where losses_before >= 1
    union all
    select
        time_class, color, result, score, expected, 'session_position' as kind,
        case when index_in_session >= 10 then '10+' else cast(index_in_session as varchar) end
            as after,
        least(index_in_session, 10) as key_order
    from session_games
    union all
    select
        time_class, color, result, score, expected, 'minutes_since_last' as kind,
        case
            when minutes_since_last < 5 then '0-5'
            when minutes_since_last < 15 then '5-15'
            when minutes_since_last < 30 then '15-30'
            else '30-60'
        end as after,
        case
            when minutes_since_last < 5 then 1
            when minutes_since_last < 15 then 2
            when minutes_since_last < 30 then 3
            else 4
        end as key_order
    from session_games
    where minutes_since_last is not null
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        kind,
        after,
        min(key_order) as key_order,
        results_block(result, score, expected) as results
    from keyed
    group by grouping sets ((time_class, color, kind, after), (time_class, kind, after), (color, kind, after),
        (kind, after))
),

final as (
    select
        $username as username,
        time_class,
        color,
        kind,
        after,
        unnest(results),
        key_order
    from grouped
)

select * exclude (key_order) from final
order by time_class, color, kind, key_order, after
