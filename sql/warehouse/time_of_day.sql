-- when I play well: hour × weekday of the game's start, in utc and in the player's time zone
with live_games as (
    -- a daily game is played over days: its start hour says nothing about when I play
    select time_class, result, score, expected, began
    from player_games
    where time_class <> 'daily' and began is not null
),

stamped as (
    select
        'utc' as zone, 'UTC' as zone_name, time_class, result, score, expected,
        hour(timezone('UTC', began)) as h, isodow(timezone('UTC', began)) as d
    from live_games
    union all
    select
        'local' as zone, $timezone as zone_name, time_class, result, score, expected,
        hour(timezone($timezone, began)) as h, isodow(timezone($timezone, began)) as d
    from live_games
),

labelled as (
    select
        stamped.*,
        lpad(cast(h as varchar), 2, '0') as hour_label,
        (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[d] as weekday_label
    from stamped
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        zone,
        label(grouping(weekday_label), weekday_label) as weekday,
        label(grouping(hour_label), hour_label) as hour,
        any_value(zone_name) as timezone,
        results_block(result, score, expected) as results
    from labelled
    group by grouping sets (
        (zone, time_class, hour_label),
        (zone, time_class, weekday_label),
        (zone, hour_label),
        (zone, weekday_label),
        (zone, weekday_label, hour_label)
    )
),

final as (
    select
        $username as username,
        time_class,
        -- colour does not change when I play; one breakdown fewer keeps the table small
        'all' as color,
        zone,
        weekday,
        hour,
        timezone,
        unnest(results)
    from grouped
)

select * from final
order by time_class, zone, weekday, hour
