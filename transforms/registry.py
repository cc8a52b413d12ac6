"""The registry of summaries: name, version, definition, dimension and metric columns of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "integer", "real", "boolean", "timestamp", "date"]
# What a published column is to its readers: the player (key), a grouping column, or a measure.
Role = Literal["key", "dimension", "metric"]


@dataclass(frozen=True)
class Column:
    """One published column of a summary table."""

    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Summary:
    """A summary: computed by sql/warehouse/<name>.sql, published as table summary_<name>."""

    name: str
    version: int
    title: str
    definition: str
    dimensions: tuple[Column, ...]
    metrics: tuple[Column, ...]

    @property
    def table(self) -> str:
        return f"summary_{self.name}"

    @property
    def columns(self) -> tuple[Column, ...]:
        return (
            Column("username", "text", "The player, lowercase."),
            *self.dimensions,
            *self.metrics,
        )

    def role(self, column: Column) -> Role:
        if column.name == "username":
            return "key"
        return "dimension" if column in self.dimensions else "metric"


TIME_CLASS = Column("time_class", "text", "bullet, blitz, rapid, daily, or all.")
COLOR = Column("color", "text", "white, black, or all.")

# Shared wording, so every definition says the same thing the same way.
_ROLLUP = (
    "Rolled up over time class and colour with GROUPING SETS; `all` labels a rolled-up dimension."
)
_RESULTS_RULES = (
    "score = (wins + draws / 2) / games, with a 95 % interval: mean ± 1.96·sd/√games clipped to "
    "[0, 1] (a single game gives [0, 1]), widened where narrower to the Wilson 95 % interval of "
    "the score read as a share of games (low = the lower of the two lows, high = the higher of "
    "the two highs), because the normal interval collapses to a point when every game has the "
    "same result (5 wins of 5 gives [0.566, 1], not [1, 1]) and a per-game score with mean p "
    "can vary up to p·(1 - p), the spread Wilson allows for; low_sample when games < 10. "
    "expected_score is the mean "
    "Elo expectation 1 / (1 + 10^((opponent_rating - rating) / 400)) over the games where both "
    "pre-game ratings are known, residual the mean of score - expectation over those same games "
    "(positive: better than the ratings predict). Unrated games count in the results because "
    "players expect them there; Chess.com reports ratings for them too, so they also enter the "
    "expectation; a game without a rating is left out of expected_score and residual only. "
    "Ratings below 100 (Chess.com's floor; some bots are listed at 1) are placeholders and "
    "count as unknown."
)
_MOVE_BASED = (
    "Move-based: games with a parse_error or without moves are excluded because there is "
    "nothing to read from them."
)


def _results_block(noun: str = "Games in the group") -> tuple[Column, ...]:
    """The result columns every summary that shows results carries, in this order."""
    return (
        Column("games", "integer", f"{noun}."),
        Column("wins", "integer", "Games won."),
        Column("draws", "integer", "Games drawn."),
        Column("losses", "integer", "Games lost."),
        Column("score", "real", "(wins + draws / 2) / games."),
        Column("score_low", "real", "Lower end of the 95 % interval of score."),
        Column("score_high", "real", "Upper end of the 95 % interval of score."),
        Column("expected_score", "real", "Mean Elo expected score (games with both ratings)."),
        Column("residual", "real", "Mean of score - expected score: > 0 beats the ratings."),
        Column("low_sample", "boolean", "True when games < 10: read the numbers with care."),
    )


RESULTS = Summary(
    name="results",
    version=3,
    title="Results by time class and colour",
    definition=(
        f"Every game of the player (rated and unrated, every variant). {_ROLLUP} {_RESULTS_RULES} "
        "Performance ratings use the games whose opponent rating is known: performance_fide = mean "
        "opponent rating + dp(p) from the FIDE table: ±800 only when p is exactly 1 or 0, "
        "otherwise dp at p rounded half-up to 2 decimals (0.745 reads as 0.75), capped at the "
        "0.99 and 0.01 entries (±677), so 199 of 200 gives +677; "
        "performance_linear (Lichess' method) = mean of opponent rating + 500 for a win, + 0 for "
        "a draw, - 500 for a loss."
    ),
    dimensions=(TIME_CLASS, COLOR),
    metrics=(
        *_results_block(),
        Column("games_with_ratings", "integer", "Games where both pre-game ratings are known."),
        Column("mean_opponent_rating", "real", "Mean pre-game rating of the opponents."),
        Column("performance_fide", "real", "FIDE performance rating: mean opponent + dp(p)."),
        Column(
            "performance_linear", "real", "Lichess linear performance: opponent ± 500 averaged."
        ),
    ),
)


def _share(name: str, what: str, n: str) -> tuple[Column, ...]:
    """A share with its Wilson 95 % interval."""
    return (
        Column(name, "real", f"{what} (denominator: {n})."),
        Column(f"{name}_low", "real", f"Lower end of the Wilson 95 % interval of {name}."),
        Column(f"{name}_high", "real", f"Upper end of the Wilson 95 % interval of {name}."),
    )


OVERVIEW = Summary(
    name="overview",
    version=2,
    title="Overview: how much, how well, since when",
    definition=(
        f"Every game of the player (rated and unrated, every variant). {_ROLLUP} {_RESULTS_RULES} "
        "first_game is the earliest start (end time when the start is unknown), last_game the "
        "latest end. current_rating is the pre-game rating of the group's latest game and "
        "peak_rating the highest pre-game rating, both null for time_class `all` because ratings "
        "of different time classes are different pools. hours_played sums the known durations "
        "of live games (games_with_duration of them); daily games are left out because a game "
        "that lasts days is not days of play."
    ),
    dimensions=(TIME_CLASS, COLOR),
    metrics=(
        *_results_block(),
        Column("first_game", "timestamp", "Start of the first game (UTC)."),
        Column("last_game", "timestamp", "End of the last game (UTC)."),
        Column("current_rating", "integer", "Pre-game rating in the latest game (per time class)."),
        Column("peak_rating", "integer", "Highest pre-game rating (per time class)."),
        Column("hours_played", "real", "Sum of known live-game durations, in hours."),
        Column("games_with_duration", "integer", "Live games whose duration is known."),
    ),
)

OPENINGS = Summary(
    name="openings",
    version=3,
    title="Openings by colour: family, variation, ECO",
    definition=(
        "Every game of the player, grouped by opening family and variation (from Chess.com's "
        "ECOUrl slug) and ECO code. Games without an ECOUrl stay, under opening_family `unknown` "
        "(eco `unknown` without an ECO code; opening_variation `none` when the slug names only a "
        "family), so each grouping adds up to all games. Grouping sets: colour x family x "
        "variation x eco and colour x family (time_class `all`: the repertoire view, per "
        "colour), family alone (colour `all`), and time class x colour x family and time class "
        "x family (eco and variation `all`). Variations are not pooled over both colours: nine "
        "in ten are met with one colour only, so such rows repeated the per-colour "
        "ones and made 40 % of the table; families are pooled (colour `all`). "
        f"{_RESULTS_RULES} mean_plies is the mean game length; example_urls are the three latest "
        "games, space-separated."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("eco", "text", "ECO code, `unknown`, or all."),
        Column("opening_family", "text", "Opening family from the ECOUrl slug, or `unknown`."),
        Column("opening_variation", "text", "Variation from the slug, `none`, or all."),
    ),
    metrics=(
        *_results_block(),
        Column("mean_plies", "real", "Mean number of plies."),
        Column("example_urls", "text", "Up to three latest game URLs, space-separated."),
    ),
)

OPENING_TREE = Summary(
    name="opening_tree",
    version=3,
    title="My repertoire tree (first 12 plies)",
    definition=(
        "Every position path of the first 12 plies (SAN moves joined by spaces) of the player's "
        "games, one tree per colour and one of all games (color `all`), time classes pooled "
        "(time_class is always `all`: a repertoire does not change with the clock). In the `all` "
        "tree my_move, on_main_line and the left_main_line columns are null: whose move it was "
        "and my main line only mean something within one colour. Each tree has a root row, ply 0 "
        "with an empty path (the start position), whose games are the tree's games. A path is "
        "published when at least max(2, ceil(0.1 % of the tree's games)) games reach it, so "
        "what the player actually uses is kept and the paths played a handful of times, which "
        "would be most of the table, are not (for 9,000 games a colour: 10 games). Excluded: "
        "games with a parse_error or without moves (move-based) and games from a non-standard "
        "start (chess960, thematic), whose paths are not comparable. "
        f"{_RESULTS_RULES} next_move is the move most often played from the path, counted over "
        "all games whether or not its path is published (mine when my_move is false, i.e. it is "
        "my turn next; ties: more games, then SAN order). My main line follows, at each of my "
        "turns, my most played move, chosen from all games; on_main_line says whether every one "
        "of my moves on the path is that move, left_main_line_here counts the games whose first "
        "departure from the main line is this path's last move, and left_main_line_below the "
        "games whose first departure lies on a path below this one too rare to be published "
        "(this path being the deepest published one on their line): over a colour tree the two "
        "add up to every game that leaves the main line within 12 plies."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("ply", "integer", "Length of the path in plies (0 = the start position, 1-12)."),
        Column("path", "text", "SAN moves from the start, space-separated (empty at ply 0)."),
    ),
    metrics=(
        Column("move", "text", "The path's last move (SAN; null at ply 0)."),
        Column("my_move", "boolean", "True when the player made the path's last move."),
        *_results_block("Games that reached the path"),
        Column("next_move", "text", "Most played move from here (null at ply 12 or a leaf)."),
        Column("next_move_games", "integer", "Games that continued with next_move."),
        Column("on_main_line", "boolean", "Every one of my moves on the path is my main move."),
        Column("left_main_line_here", "integer", "Games that leave my main line with this move."),
        Column(
            "left_main_line_below",
            "integer",
            "Games that leave my main line further down, on a path too rare to publish.",
        ),
    ),
)

TIME_OF_DAY = Summary(
    name="time_of_day",
    version=2,
    title="When I play well: hour and weekday",
    definition=(
        "Live games by the hour and weekday they started, once in UTC (zone `utc`) and once in "
        "the player's time zone (zone `local`, the PLAYER_TIMEZONES setting, default UTC; its "
        "name is in timezone). Daily games are excluded: they are played over days, so their "
        "start hour says nothing about when the player plays. A game without a start time uses "
        "its end time. Grouping sets per zone: time class x hour, time class x weekday, hour, "
        "weekday, weekday x hour; `all` labels the rolled-up ones. color is always `all`: the "
        "colour does not change when one plays, and one breakdown fewer keeps the table small. "
        f"{_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("zone", "text", "utc or local (the player's time zone)."),
        Column("weekday", "text", "mon ... sun, or all."),
        Column("hour", "text", "00 ... 23 (start hour), or all."),
    ),
    metrics=(
        Column("timezone", "text", "The IANA zone the hours are in."),
        *_results_block(),
    ),
)

RATING_HISTORY = Summary(
    name="rating_history",
    version=2,
    title="Rating over time",
    definition=(
        "Rated games with a known rating (games whose rated flag is unknown count as rated), per "
        "time class and day (the end time's date in the player's time zone). Ratings are "
        "Chess.com's pre-game ratings: rating_open is that of the day's first game, rating_close "
        "that of its last. time_class `all` rows give the day's games and results but no "
        "ratings (ratings of different time classes are separate pools); color is always "
        "`all`. Unrated games are left out because they do not move the rating. "
        f"{_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("day", "date", "Day, in the player's time zone."),
    ),
    metrics=(
        *_results_block("Rated games that day"),
        Column("rating_open", "integer", "Pre-game rating of the day's first game."),
        Column("rating_close", "integer", "Pre-game rating of the day's last game."),
        Column("rating_min", "integer", "Lowest pre-game rating that day."),
        Column("rating_max", "integer", "Highest pre-game rating that day."),
    ),
)

OPPONENT_STRENGTH = Summary(
    name="opponent_strength",
    version=2,
    title="Against stronger and weaker opponents",
    definition=(
        "Games where both pre-game ratings are known (the others cannot be placed), by "
        "rating_diff = opponent_rating - rating. scheme `coarse`: < -200, -200..-100 "
        "(-200 <= d < -100), -100..100 (-100 <= d <= 100), 100..200 (100 < d <= 200), > 200; "
        "scheme `bin50`: 50-point bins [k, k + 50) from -400 to 400 with open ends < -400 and "
        f">= 400. bucket_order sorts the buckets. {_ROLLUP} {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("scheme", "text", "coarse or bin50."),
        Column("bucket", "text", "Rating difference bucket (opponent - me)."),
    ),
    metrics=(
        Column("bucket_order", "integer", "Sort key of the bucket (its lower bound)."),
        *_results_block(),
        Column("mean_rating_diff", "real", "Mean opponent - me rating difference."),
    ),
)

TERMINATIONS = Summary(
    name="terminations",
    version=2,
    title="How my games end, overall and by opening",
    definition=(
        "Every game, by result (win/draw/loss for the player) and termination category "
        "(checkmate, resignation, timeout, abandonment, agreement, repetition, stalemate, "
        "insufficient, timevsinsufficient, 50move, other; a missing category counts as other). "
        f"{_ROLLUP} Result and termination are never rolled up, so within one time class x "
        "colour x opening family group the shares add up to 1: share = games / group_games "
        "with a Wilson 95 % interval; low_sample when group_games < 10. opening_family `all` "
        "rows are the breakdown by time class and colour. The rows by opening family (from the "
        "ECOUrl slug, `unknown` without one, as in `openings`) are per colour and for both "
        "colours (color `all`), with time classes pooled (time_class `all`): split four ways "
        "more, most families fall under 10 games a group, and the table would grow more than "
        "twice as much; kept in this table, with `all`, so one query answers how games end "
        "with an opening and each family's rows add up to its games."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("opening_family", "text", "Opening family, `unknown`, or all."),
        Column("result", "text", "win, draw or loss (the player's)."),
        Column("termination", "text", "Termination category."),
    ),
    metrics=(
        Column("games", "integer", "Games with this result and termination."),
        Column(
            "group_games",
            "integer",
            "Games in the time class x colour x opening family group (the n).",
        ),
        *_share("share", "games / group_games", "group_games"),
        Column("low_sample", "boolean", "True when group_games < 10."),
    ),
)


def _game_share(name: str, what: str) -> tuple[Column, ...]:
    """A mean over games of a per-game share, with its 95 % interval over games."""
    return (
        Column(name, "real", f"{what}: mean over games of the share within each game."),
        Column(f"{name}_low", "real", f"Lower end of the 95 % interval of {name} (over games)."),
        Column(f"{name}_high", "real", f"Upper end of the 95 % interval of {name} (over games)."),
    )


TIME_MANAGEMENT = Summary(
    name="time_management",
    version=3,
    title="How I use my clock",
    definition=(
        f"The player's own moves. {_MOVE_BASED} Per phase (opening/middlegame/endgame by Lichess' "
        "Divider, `all` rolled up) and time class x colour roll-ups. time per move = the "
        "time_spent_seconds of the move (previous own clock - this clock + increment); moves "
        "without a clock reading are left out of the time figures (timed_moves of them); "
        "mean_time_per_move = their total time / timed_moves. Instant moves take < 1 s. "
        "Clock-share buckets read the moves with a clock_share (clock / (base + 40 x "
        "increment)): <= 3 %, (3, 10], (10, 25], (25, 50), >= 50 %. Shares are taken within "
        "each game first, because one game's moves are not independent draws (one player, "
        "one clock): instant_share is the mean over the timed_games (games with at least one "
        "timed move in the phase) of instant moves / timed moves in that game, and each "
        "share_clock_* the mean over the clock_games (games with at least one clock share in "
        "the phase) of the game's moves in the bucket / its moves with a clock share; every "
        "game weighs the same. Their 95 % interval is over games, n = timed_games or "
        "clock_games (not moves): mean ± 1.96·sd/√n of the per-game shares, clipped to [0, 1] "
        "(one game gives [0, 1]), widened where narrower to the Wilson 95 % interval of the "
        "mean read as a share of n, as for score (a per-game share lies in [0, 1], and when "
        "every game has the same share the normal interval collapses to a point). "
        "Every game has a row for the phase of its last ply (whoever made it), with no moves "
        "when the player made none there, so games counts the games with a move of the player "
        "in the phase or ending in it, and the per-phase timeout_losses add up to the `all` "
        "row. timeout_losses counts the games lost on time whose last ply was in the phase; "
        "timeout_losses_ahead those where the player was a piece or more up (material balance "
        ">= +3) after the last ply. Mixing time classes (time_class `all`) mixes clocks: read "
        "the per-class rows first. low_sample when games < 10."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("phase", "text", "opening, middlegame, endgame, or all."),
    ),
    metrics=(
        Column("games", "integer", "Games with a move of the player in the phase or ending in it."),
        Column("moves", "integer", "The player's moves."),
        Column("timed_moves", "integer", "Moves with a time spent (n of mean_time_per_move)."),
        Column("mean_time_per_move", "real", "Seconds spent / timed_moves."),
        Column("instant_moves", "integer", "Moves played in under 1 s."),
        Column("timed_games", "integer", "Games with a timed move (n of instant_share)."),
        *_game_share("instant_share", "Instant moves / timed moves"),
        Column("clock_moves", "integer", "Moves with a clock share."),
        Column("clock_games", "integer", "Games with a clock share (n of the clock buckets)."),
        *_game_share("share_clock_le_3", "Moves with <= 3 % of the clock left"),
        *_game_share("share_clock_3_10", "Moves with 3-10 % of the clock left"),
        *_game_share("share_clock_10_25", "Moves with 10-25 % of the clock left"),
        *_game_share("share_clock_25_50", "Moves with 25-50 % of the clock left"),
        *_game_share("share_clock_ge_50", "Moves with >= 50 % of the clock left"),
        Column("timeout_losses", "integer", "Games lost on time ending in the phase."),
        Column("timeout_losses_ahead", "integer", "Of those, games a piece or more up."),
        Column("low_sample", "boolean", "True when games < 10."),
    ),
)

_SESSIONS_RULE = (
    "Sessions are built from live games only (daily games excluded), ordered by start time "
    "(end time when unknown): a game starts a new session when it starts more than 60 minutes "
    "after the latest end of the games before it; exactly 60 minutes stays in the session."
)

TILT = Summary(
    name="tilt",
    version=2,
    title="Do I play worse after losing?",
    definition=(
        f"{_SESSIONS_RULE} Each row describes the games that follow something in the same "
        "session, grouped by the time class and colour of that following game (roll-ups "
        "labelled `all`). kind `result`: after = win/draw/loss of the previous game of the "
        "session, games = the number of next games, score their mean. kind `loss_streak`: after "
        "1, 2, 3+ straight losses just before the game. kind `session_position`: the game's "
        "position in its session (1 ... 9, 10+). kind `minutes_since_last`: minutes from the "
        f"previous game's end to this start (0-5, 5-15, 15-30, 30-60). {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("kind", "text", "result, loss_streak, session_position or minutes_since_last."),
        Column("after", "text", "What came before: win/draw/loss, 1/2/3+, position, minutes."),
    ),
    metrics=_results_block("Next games in the same session"),
)

SESSIONS = Summary(
    name="sessions",
    version=2,
    title="How long I play in a row",
    definition=(
        f"{_SESSIONS_RULE} Rows by the game's index in its session (1 ... 9, 10+, `all`) and "
        "the game's time class x colour with `all` roll-ups; sessions counts the sessions with "
        "at least one game of the row, mean_games_per_session = games / sessions. Streaks "
        "describe a whole sequence, so they are on the game_index `all` rows only, computed "
        "over the group's live games in time order across sessions: longest_win_streak, "
        "longest_loss_streak (draws break both), current_streak (length of the run the latest "
        "game belongs to) and current_streak_result; longest_session_games is the highest "
        f"index in a session reached by a game of the group. {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("game_index", "text", "Position of the game in its session: 1 ... 9, 10+, all."),
    ),
    metrics=(
        Column("sessions", "integer", "Sessions with a game of the row."),
        *_results_block(),
        Column("mean_games_per_session", "real", "games / sessions."),
        Column("longest_session_games", "integer", "Most games in one session (index reached)."),
        Column("longest_win_streak", "integer", "Longest run of wins."),
        Column("longest_loss_streak", "integer", "Longest run of losses."),
        Column("current_streak", "integer", "Length of the latest run."),
        Column("current_streak_result", "text", "win, draw or loss: the latest run's result."),
    ),
)

GAME_LENGTH = Summary(
    name="game_length",
    version=1,
    title="When my games are decided",
    definition=(
        "Game length in plies by result and termination (each rolled up to `all` too) and time "
        f"class x colour. {_ROLLUP} Games with a parse_error are excluded (their ply count is "
        "not known); games with zero moves stay (an abandoned game really ended at ply 0). "
        "Quantiles are discrete (an actual game's length). Length bands count games of <= 40, "
        "41-80, 81-120 and > 120 plies. low_sample when games < 10."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("result", "text", "win, draw, loss, or all."),
        Column("termination", "text", "Termination category, or all."),
    ),
    metrics=(
        Column("games", "integer", "Games in the group."),
        Column("mean_plies", "real", "Mean plies."),
        Column("min_plies", "integer", "Shortest game."),
        Column("p10_plies", "integer", "10th percentile."),
        Column("p25_plies", "integer", "25th percentile."),
        Column("median_plies", "integer", "Median."),
        Column("p75_plies", "integer", "75th percentile."),
        Column("p90_plies", "integer", "90th percentile."),
        Column("max_plies", "integer", "Longest game."),
        Column("games_le_40", "integer", "Games of at most 40 plies."),
        Column("games_41_80", "integer", "Games of 41-80 plies."),
        Column("games_81_120", "integer", "Games of 81-120 plies."),
        Column("games_gt_120", "integer", "Games of more than 120 plies."),
        Column("low_sample", "boolean", "True when games < 10."),
    ),
)

CASTLING = Summary(
    name="castling",
    version=2,
    title="King safety habits",
    definition=(
        f"{_MOVE_BASED} Each game by the player's first castling (kingside, queenside, none) and "
        "the opponent's, each rolled up to `all`, and time class x colour (roll-ups `all`). "
        "share = games / group_games (all games of the time class x colour group) with a Wilson "
        "interval; mean_castle_move is the mean move number of the player's castling; opposite "
        "sides = both castled, on different wings, opposite_side_share = opposite_side_games / "
        f"games with a Wilson interval. {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("my_castling", "text", "kingside, queenside, none, or all."),
        Column("opponent_castling", "text", "kingside, queenside, none, or all."),
    ),
    metrics=(
        *_results_block(),
        Column("group_games", "integer", "Games of the time class x colour group (share's n)."),
        *_share("share", "games / group_games", "group_games"),
        Column("mean_castle_move", "real", "Mean move number of my castling."),
        Column(
            "opposite_side_games", "integer", "Games where the kings castled on opposite wings."
        ),
        *_share("opposite_side_share", "opposite_side_games / games", "games"),
    ),
)

MATERIAL = Summary(
    name="material",
    version=2,
    title="Converting and defending without an engine",
    definition=(
        f"{_MOVE_BASED} Material balance is the player's side's material minus the opponent's "
        "after each ply (P1 N3 B3 R5 Q9). situation `ahead_3_for_4_plies`: the balance was >= +3 "
        "for at least 4 consecutive plies; rate = conversion = wins / games. "
        "`behind_3_for_4_plies`: <= -3 for at least 4 consecutive plies; rate = resourcefulness "
        "= (wins + draws) / games. `queen_trade_before_move_20`: each side captured a queen "
        "before move 20; `no_queen_trade_before_move_20` the rest; their rate is the share of "
        "the group's games (rate_n = the games of the time class x colour group). Rates carry "
        f"a Wilson 95 % interval. {_ROLLUP} {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("situation", "text", "ahead_3_for_4_plies, behind_3_for_4_plies, queen trades."),
    ),
    metrics=(
        *_results_block("Games in the situation"),
        Column("rate_n", "integer", "Denominator of rate."),
        *_share("rate", "Conversion, resourcefulness or share of games", "rate_n"),
    ),
)

OPPONENTS = Summary(
    name="opponents",
    version=2,
    title="Who I meet",
    definition=(
        "Opponents by their lowercased username (shown as last seen), per time class x colour "
        "with `all` roll-ups (rows for one group never mix with another's). kind `most_played`: "
        "the 20 opponents with the most games (rank 1 = most). `nemesis`: the 5 lowest scores "
        "among opponents with at least 5 games. `best_win`: the 10 wins against the highest "
        "rated opponents; `worst_loss`: the 10 losses against the lowest rated; both from rated "
        "games with a known opponent rating (an unrated loss to a bot listed at rating 1 is not "
        "a worst loss) and carry the game's url and end_time. opponent_rating is the mean over "
        f"the games. {_RESULTS_RULES}"
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("kind", "text", "most_played, nemesis, best_win or worst_loss."),
        Column("rank", "integer", "Rank within the kind (1 = first)."),
    ),
    metrics=(
        Column("opponent", "text", "Opponent username as last seen."),
        *_results_block("Games against the opponent (1 for best_win/worst_loss)"),
        Column("opponent_rating", "real", "Opponent's (mean) pre-game rating."),
        Column("url", "text", "The game (best_win, worst_loss)."),
        Column("end_time", "timestamp", "End of the game, or of the last game against them."),
    ),
)

ACCURACY = Summary(
    name="accuracy",
    version=1,
    title="Chess.com accuracy where reviewed",
    definition=(
        "Chess.com's accuracy exists only for reviewed games: coverage = reviewed_games / games "
        "(Wilson interval); mean and median accuracy are over the reviewed games only (games "
        "without an accuracy are left out of them, never counted as 0), with mean ± 1.96·sd/√n "
        "clipped to [0, 100]; low_sample when reviewed_games < 10. Grouping sets: time class x "
        "colour x result with `all` roll-ups (month `all`), and the monthly trend by month and "
        "by time class x month (colour and result `all`)."
    ),
    dimensions=(
        TIME_CLASS,
        COLOR,
        Column("result", "text", "win, draw, loss, or all."),
        Column("month", "text", "YYYY-MM, or all."),
    ),
    metrics=(
        Column("games", "integer", "Games in the group."),
        Column("reviewed_games", "integer", "Games with the player's accuracy."),
        *_share("coverage", "reviewed_games / games", "games"),
        Column("mean_accuracy", "real", "Mean accuracy (0-100) of reviewed games."),
        Column("mean_accuracy_low", "real", "Lower end of the 95 % interval of the mean."),
        Column("mean_accuracy_high", "real", "Upper end of the 95 % interval of the mean."),
        Column("median_accuracy", "real", "Median accuracy."),
        Column("mean_opponent_accuracy", "real", "Mean accuracy of the opponents."),
        Column("low_sample", "boolean", "True when reviewed_games < 10."),
    ),
)

TRENDS = Summary(
    name="trends",
    version=2,
    title="Am I improving? Month by month",
    definition=(
        "Every game by month (the archive month, YYYY-MM in UTC) and time class x colour with "
        f"`all` roll-ups. {_RESULTS_RULES} mean_rating is the mean pre-game rating (null for "
        "time_class `all`: ratings of different time classes are different pools); "
        "mean_accuracy is over the reviewed_games only."
    ),
    dimensions=(TIME_CLASS, COLOR, Column("month", "text", "YYYY-MM.")),
    metrics=(
        *_results_block(),
        Column("mean_rating", "real", "Mean pre-game rating (per time class)."),
        Column("reviewed_games", "integer", "Games with an accuracy."),
        Column("mean_accuracy", "real", "Mean accuracy of the reviewed games."),
    ),
)

SUMMARIES: tuple[Summary, ...] = (
    OVERVIEW,
    RESULTS,
    OPENINGS,
    OPENING_TREE,
    TIME_OF_DAY,
    RATING_HISTORY,
    OPPONENT_STRENGTH,
    TERMINATIONS,
    TIME_MANAGEMENT,
    TILT,
    SESSIONS,
    GAME_LENGTH,
    CASTLING,
    MATERIAL,
    OPPONENTS,
    ACCURACY,
    TRENDS,
)
BY_NAME: dict[str, Summary] = {s.name: s for s in SUMMARIES}
