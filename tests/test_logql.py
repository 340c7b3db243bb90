"""cfmon.logql: the LogQL subset our dashboards use parses into a tree, and what Loki would refuse
is an error that says what is wrong and at which column."""

from __future__ import annotations

import pytest

from cfmon import logql
from cfmon.logql import (
    BinaryOp,
    LabelFilter,
    LineFilter,
    LogQuery,
    Matcher,
    Number,
    RangeAggregation,
    Stage,
    VectorAggregation,
)

# ---- log queries ------------------------------------------------------------------------------------


def test_selector_with_every_matcher_operator():
    tree = logql.parse('{namespace="creativeflow", app!="n8n", level=~"error|fatal", pod!~"test-.*"}')
    assert tree == LogQuery(
        (
            Matcher("namespace", "=", "creativeflow"),
            Matcher("app", "!=", "n8n"),
            Matcher("level", "=~", "error|fatal"),
            Matcher("pod", "!~", "test-.*"),
        )
    )


def test_line_filters_chain_and_take_or():
    tree = logql.parse('{app="api"} |= "timeout" or "refused" != "healthz" |~ "(?i)error" !~ "debug|trace"')
    assert tree.pipeline == (
        LineFilter("|=", ("timeout", "refused")),
        LineFilter("!=", ("healthz",)),
        LineFilter("|~", ("(?i)error",)),
        LineFilter("!~", ("debug|trace",)),
    )


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("| json", Stage("json")),
        ('| json status, ua="request.headers.ua"', Stage("json", ("status", "ua=request.headers.ua"))),
        ("| logfmt", Stage("logfmt")),
        ("| logfmt --strict --keep-empty", Stage("logfmt", ("--strict", "--keep-empty"))),
        ('| pattern "<ip> - <_> [<ts>] <status>"', Stage("pattern", ("<ip> - <_> [<ts>] <status>",))),
        ('| regexp "(?P<status>\\\\d{3})"', Stage("regexp", ("(?P<status>\\d{3})",))),
        ("| unpack", Stage("unpack")),
        ('| line_format "{{.level}} {{.msg}}"', Stage("line_format", ("{{.level}} {{.msg}}",))),
        ("| line_format `{{.msg}}`", Stage("line_format", ("{{.msg}}",))),
        (
            '| label_format svc=app, msg="{{.message}}"',
            Stage("label_format", ("svc=app", "msg={{.message}}")),
        ),
        ('| drop __error__, level="debug"', Stage("drop", ("__error__", "level=debug"))),
        ("| keep level, service", Stage("keep", ("level", "service"))),
        ("| decolorize", Stage("decolorize")),
    ],
)
def test_pipeline_stages(stage, expected):
    assert logql.parse('{app="api"} ' + stage).pipeline == (expected,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('level="error"', (("level", "=", "error"),)),
        ('level=~"error|fatal"', (("level", "=~", "error|fatal"),)),
        ("status >= 500", (("status", ">=", "500"),)),
        (
            'status >= 500 and duration > 1.5s or level="fatal"',
            (
                ("status", ">=", "500"),
                ("", "and", ""),
                ("duration", ">", "1.5s"),
                ("", "or", ""),
                ("level", "=", "fatal"),
            ),
        ),
        ("(size > 10KB, status == 200)", (("size", ">", "10KB"), ("", "and", ""), ("status", "==", "200"))),
    ],
)
def test_label_filters(text, expected):
    assert logql.parse('{app="api"} | logfmt | ' + text).pipeline[1] == LabelFilter(expected)


def test_a_whole_logs_panel_query():
    tree = logql.parse(
        '{namespace="creativeflow", app=~"ai-.+"} |= "error" | json | level=~"error|fatal" '
        '| line_format "{{.model_name}}: {{.msg}}"'
    )
    assert isinstance(tree, LogQuery)
    assert [type(s).__name__ for s in tree.pipeline] == ["LineFilter", "Stage", "LabelFilter", "Stage"]
    assert not logql.is_metric_query(tree)


# ---- metric queries ---------------------------------------------------------------------------------


def test_count_over_time_summed_by_label():
    tree = logql.parse('sum by (level) (count_over_time({namespace="creativeflow"} | logfmt [5m]))')
    assert tree == VectorAggregation(
        "sum",
        RangeAggregation(
            "count_over_time",
            LogQuery((Matcher("namespace", "=", "creativeflow"),), (Stage("logfmt"),)),
            300.0,
        ),
        ("by", ("level",)),
    )
    assert logql.is_metric_query(tree)


@pytest.mark.parametrize(
    ("query", "func", "seconds"),
    [
        ('rate({app="api"}[1m])', "rate", 60),
        ('bytes_over_time({app="api"}[1h30m])', "bytes_over_time", 5400),
        ('bytes_rate({app="api"} |= "x" [30s])', "bytes_rate", 30),
        ('absent_over_time({app="api"}[15m])', "absent_over_time", 900),
        # The range may come right after the selector too.
        ('count_over_time({app="api"}[5m] |= "error")', "count_over_time", 300),
        ('sum_over_time({app="api"} | logfmt | unwrap bytes(size) [5m])', "sum_over_time", 300),
        ('avg_over_time({app="api"} | json | unwrap duration(latency) [1m])', "avg_over_time", 60),
    ],
)
def test_range_aggregations(query, func, seconds):
    tree = logql.parse(query)
    assert isinstance(tree, RangeAggregation)
    assert (tree.func, tree.range_seconds) == (func, seconds)


def test_topk_sort_desc_and_quantile():
    tree = logql.parse(
        'sort_desc(topk(10, sum by (msg) (count_over_time({app="api"} | json | level="error" [1h]))))'
    )
    assert tree.op == "sort_desc"
    assert (tree.expr.op, tree.expr.param) == ("topk", 10)
    quantile = logql.parse('quantile_over_time(0.99, {app="api"} | json | unwrap latency [5m]) by (route)')
    assert (quantile.param, quantile.grouping) == (0.99, ("by", ("route",)))


def test_binary_operators_with_precedence():
    tree = logql.parse('sum(rate({app="api"} |= "error" [5m])) / sum(rate({app="api"}[5m])) * 100 > 5')
    assert isinstance(tree, BinaryOp) and tree.op == ">"
    assert tree.lhs.op == "*" and tree.lhs.lhs.op == "/"
    assert tree.rhs == Number(5)
    walked = [type(n).__name__ for n in logql.walk(tree)]
    assert walked.count("RangeAggregation") == 2


# ---- what is not well-formed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        ("{}", "at column 1: the stream selector {} is empty: select streams with at least one matcher"),
        (
            '{app=~".*"}',
            "at column 1: the stream selector needs at least one = or =~ matcher that does not match the "
            'empty string (e.g. namespace="creativeflow"); Loki refuses a selector that matches every stream',
        ),
        ('{app!="x", pod!~"y"}', "at column 1: the stream selector needs at least one = or =~ matcher"),
        ('{app=""}', "at column 1: the stream selector needs at least one = or =~ matcher"),
        ('{app="x"', "at column 9: expected ',' or '}' in the stream selector, found the end of the query"),
        ("{app=x}", "at column 6: expected a quoted value for app, found 'x'"),
        ('{app~"x"}', "at column 5: unexpected character '~'"),
        ('{app="x"} |= error', "at column 14: expected a quoted string after |=, found 'error'"),
        ('{app=~"("}', "at column 7: the regular expression of app '(' is not a valid regular expression"),
        ('{app="x"} |~ "[a-"', "at column 14: the line filter '[a-' is not a valid regular expression"),
        ('{app="x"} | jsno', "at column 13: unknown stage 'jsno': expected decolorize, drop, json, keep"),
        ('{app="x"} | level', "at column 13: unknown stage 'level'"),
        (
            '{app="x"} | json | level=',
            "at column 26: expected a value after level =, found the end of the query",
        ),
        (
            '{app="x"} | pattern "<_> - x"',
            "at column 21: the pattern captures nothing: name at least one field",
        ),
        ('{app="x"} | regexp "(\\\\d+)"', "at column 20: the regexp captures nothing: use a named group"),
        ('{app="x"} | logfmt --lenient', "at column 20: unknown logfmt flag --lenient"),
        (
            'count_over_time({app="x"})',
            "at column 26: expected a range such as [5m] after the log query, found ')'",
        ),
        ('count_over_time({app="x"}[0s])', "at column 27: the range 0s must be positive"),
        ('count_over_time({app="x"}[5])', "at column 27: expected a duration such as 5m, found '5'"),
        ('sum({app="x"})', "at column 1: sum aggregates a metric query, not a log query"),
        ('sum_over_time({app="x"} | json [5m])', "at column 1: sum_over_time needs `| unwrap <label>`"),
        ('count_over_time({app="x"} | unwrap n [5m])', "at column 1: count_over_time counts log lines"),
        ('topk(2.5, rate({app="x"}[1m]))', "at column 6: topk needs a whole number of series, not 2.5"),
        (
            'quantile_over_time(99, {app="x"} | unwrap n [1m])',
            "at column 20: the quantile must be between 0 and 1",
        ),
        ('rate({app="x"}[1m]) / {app="x"}', "at column 21: `/` needs metric queries on both sides"),
        ('rate({app="x"}[1m]) foo', "at column 21: unexpected 'foo' after a complete query"),
        ("foo", "at column 1: unexpected 'foo': a query starts with a stream selector"),
    ],
)
def test_malformed_queries(query, message):
    with pytest.raises(logql.LogqlError) as err:
        logql.parse(query)
    assert str(err.value).startswith(message)


def test_error_keeps_reason_and_column_apart():
    with pytest.raises(logql.LogqlError) as err:
        logql.parse('{app="x"} | jsno')
    assert err.value.column == 13
    assert err.value.reason.startswith("unknown stage 'jsno'")
