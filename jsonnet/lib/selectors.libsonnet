// PromQL label selectors, shared by every mixin. A mixin's `_config` names each target's base
// matchers ('job="redis-exporter"', possibly empty); a rule adds its own.
//
//   local selectors = import '../../lib/selectors.libsonnet';
//   ...
//   local selector(extra=[]) = selectors.of([c.redisSelector] + extra),
//   'redis_up%s == 0' % selector()                     // redis_up{job="redis-exporter"} == 0
//   'rate(x%s[5m])' % selector(['status=~"5.."'])      // {job="redis-exporter", status=~"5.."}
{
  // '{m1, m2, ...}' from the non-empty matchers, or '' when none is left: a bare metric name
  // rather than `x{}`, which PromQL refuses for a name-less selector.
  of(matchers)::
    local m = std.filter(function(x) x != '', matchers);
    if m == [] then '' else '{' + std.join(', ', m) + '}',
}
