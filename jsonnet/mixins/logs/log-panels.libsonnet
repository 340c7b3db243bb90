// The panels both log dashboards (AI model logs, service logs) share, as LogQL over Loki: line and
// error counts, the log volume histogram per level, counts by level, the error share in 5-minute
// windows (as the alerts compute it), top error messages, errors per group and the log stream.
// Each dashboard says which streams: `matchers` (besides environment and cluster) and the labels
// it breaks errors down by. `$log_level` narrows what is shown; `$search` is a line filter.
function(c) {
  local d = (import '../../lib/dashboards.libsonnet')(c),

  // Case-insensitive free-text line filter; the empty default matches every line.
  search:: ' |~ "(?i)$search"',

  // A log-level variable over the `level` label the agents set (debug|info|warn|error|fatal).
  levelVariable(matchers):: d.lokiVariable('log_level', 'Level', labelName='level', extra=matchers),
  searchVariable:: d.textbox('search', 'Search (regex)'),

  // Queries and panels for the streams `matchers` select (c: the logs mixin's _config, with
  // errorLevels and the thresholds).
  //   groupBy     labels to break errors down by ('namespace, app'), named groupName in titles
  //   ratioMatchers  extra matchers of the error-share panel, to count what its alert counts
  //   alert, threshold  the alert the error-share panel mirrors and its ratio threshold
  //   filters     pipeline stages after the search on every line query (e.g. a trace id filter)
  new(matchers, groupBy, groupName, groupLegend, alert, threshold, ratioMatchers=[], filters=''):: {
    local picked = d.selector(matchers + ['level=~"$log_level"']),
    local errors = d.selector(matchers + ['level=~"%s"' % c.errorLevels]),
    local lines(selector) = selector + $.search + filters,
    local count(selector, range) = 'count_over_time(%s [%s])' % [lines(selector), range],

    queries:: {
      lines: d.lokiTarget('sum (%s)' % count(picked, '$__range'), 'lines', instant=true),
      errorLines: d.lokiTarget('sum (%s)' % count(errors, '$__range'), 'error lines', instant=true),
      volume: d.lokiTarget('sum by (level) (%s)' % count(picked, '$__interval'), '{{level}}'),
      byLevel: d.lokiTarget('sum by (level) (%s)' % count(picked, '$__range'), '{{level}}', instant=true),
      // 5-minute windows and no search or level filter: the ratio the alert computes.
      errorShare: d.lokiTarget(
        'sum by (%s) (count_over_time(%s [5m])) / sum by (%s) (count_over_time(%s [5m]))'
        % [groupBy, d.selector(matchers + ratioMatchers + ['level=~"%s"' % c.errorLevels]), groupBy, d.selector(matchers + ratioMatchers)],
        groupLegend
      ),
      // The JSON `message` (or `msg`) of error lines; lines that are not JSON count by their text.
      topErrors: d.lokiTarget(
        'topk(10, sum by (message) (count_over_time(%s | json message="message", msg="msg" | drop __error__, __error_details__'
        % lines(errors)
        + ' | label_format message="{{ or .message .msg __line__ }}" [$__range])))',
        '{{message}}',
        instant=true,
      ),
      errorsByGroup: d.lokiTarget('sum by (%s) (%s)' % [groupBy, count(errors, '$__interval')], groupLegend),
      stream: d.lokiTarget(lines(picked)),
    },

    local q = self.queries,
    panels:: {
      lines: d.stat('Log lines', 'Lines of the selected streams and levels in the time range. Good: the usual volume; 0 means nothing is shipped.', 'short', [q.lines], graph=false),
      errorLines: d.stat(
        'Error lines', 'Lines at level error or fatal in the time range (selected streams). Good: few, and each one explained.', 'short', [q.errorLines], graph=false
      ),
      volume: d.withLevelColours(d.bars(d.timeseries(
        'Log volume by level',
        'Lines per interval, stacked by level (a histogram of log occurrences). Good: the usual shape with little red; a red band is an error burst, a gap is a shipping problem.',
        'short',
        [q.volume],
        min=0,
        stack=true,
      ))),
      byLevel: d.withLevelColours(d.bargauge(
        'Lines by level', 'Lines per level in the time range. Good: info and debug dominate; error and fatal a small share.', 'short', [q.byLevel]
      )),
      errorShare: d.timeseries(
        'Error share (5-minute windows)',
        'Share of lines at level error or fatal per %s over 5 minutes, as %s computes it. Good: below the dashed line.' % [groupName, alert],
        'percentunit',
        [q.errorShare],
        thresholds=d.above([threshold]),
        alerts=[alert],
        min=0,
      ),
      topErrors: d.table(
        'Top error messages',
        'The 10 most frequent messages of error and fatal lines in the time range. Good: short and known; a new message at the top is where to start.',
        'short',
        [q.topErrors],
      ),
      errorsByGroup: d.bars(d.timeseries(
        'Error lines by %s' % groupName, 'Error and fatal lines per interval per %s. Good: empty or a few isolated bars.' % groupName, 'short', [q.errorsByGroup], min=0, stack=true
      )),
      stream: d.logs(
        'Log stream', 'The lines of the selected streams, levels and search, newest first (open a line for its labels and trace link). Good: no repeating errors.', [q.stream]
      ),
    },
  },
}
