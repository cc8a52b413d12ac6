-- which openings work for me: family / variation / eco per colour, with time-class breakdowns
with player_games as (
    select
        tc,
        co,
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
    from pg
),

grouped as (
    select
        label(grouping(tc), tc) as time_class,
        label(grouping(co), co) as color,
        label(grouping(eco_code), eco_code) as eco,
        family as opening_family,
        label(grouping(variation), variation) as opening_variation,
        count(*) as games,
        count(*) filter (where result = 'win') as wins,
        count(*) filter (where result = 'draw') as draws,
        count(*) filter (where result = 'loss') as losses,
        avg(score) as score,
        stddev_samp(score) as score_sd,
        avg(expected) as expected_score,
        avg(score - expected) as residual,
        avg(plies) as mean_plies,
        -- the three latest games, a stable choice whatever order the games arrive in
        array_to_string(list(url order by end_time desc, game_id)[1:3], ' ') as example_urls
    from player_games
    -- no colour-pooled variation rows: nine in ten variations are met with one colour only, so
    -- they repeated the per-colour rows and were 40 % of the table
    group by grouping sets (
        (co, family, variation, eco_code),
        (co, family),
        (family),
        (tc, co, family),
        (tc, family)
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
        mean_plies,
        example_urls
    from grouped
)

select * from final
order by time_class, color, opening_family, opening_variation, eco
