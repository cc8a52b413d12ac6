-- how my games end: result × termination category, with shares of each time class × colour group,
-- and the same per opening family (time classes pooled)
with player_games as (
    select
        time_class,
        color,
        result,
        coalesce(termination, 'other') as term,
        -- games without an ECOUrl stay, under `unknown`, as in `openings`
        coalesce(opening_family, 'unknown') as family
    from player_games
),

counted as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(family), family) as opening_family,
        result,
        term as termination,
        count(*) as games
    from player_games
    -- opening rows pool the time classes: split four ways more most families fall under 10
    -- games a group, and the table would grow more than twice as much
    group by grouping sets ((time_class, color, result, term), (time_class, result, term), (color, result, term),
        (result, term), (color, family, result, term), (family, result, term))
),

with_totals as (
    select
        counted.*,
        sum(games) over (partition by time_class, color, opening_family) as group_games
    from counted
),

final as (
    select
        $username as username,
        time_class,
        color,
        opening_family,
        result,
        termination,
        games,
        group_games,
        games / group_games as share,
        wilson_low(games, group_games) as share_low,
        wilson_high(games, group_games) as share_high,
        group_games < 10 as low_sample
    from with_totals
)

select * from final
order by time_class, color, opening_family, result, termination
