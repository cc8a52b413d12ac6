-- which openings work for me: family / variation / eco per colour, with time-class breakdowns
with player_games as (
    select
        time_class,
        color,
        result,
        score,
        expected,
        plies,
        url,
        end_time,
        game_id,
        -- games without an ECOUrl stay, under `unknown`, so the openings add up to all games
        coalesce(opening_family, 'unknown') as family,
        coalesce(opening_variation, 'none') as variation,
        coalesce(eco, 'unknown') as eco_code
    from player_games
),

grouped as (
    select
        label(grouping(time_class), time_class) as time_class,
        label(grouping(color), color) as color,
        label(grouping(eco_code), eco_code) as eco,
        family as opening_family,
        label(grouping(variation), variation) as opening_variation,
        results_block(result, score, expected) as results,
        avg(plies) as mean_plies,
        -- the three latest games, a stable choice whatever order the games arrive in
        array_to_string(list(url order by end_time desc, game_id)[1:3], ' ') as example_urls
    from player_games
    -- no colour-pooled variation rows: nine in ten variations are met with one colour only, so
    -- they repeated the per-colour rows and were 40 % of the table
    group by grouping sets (
        (color, family, variation, eco_code),
        (color, family),
        (family),
        (time_class, color, family),
        (time_class, family)
    )
),

final as (
    select
        $username as username,
        time_class,
        color,
        eco,
        opening_family,
        opening_variation,
        unnest(results),
        mean_plies,
        example_urls
    from grouped
)

select * from final
order by time_class, color, opening_family, opening_variation, eco
