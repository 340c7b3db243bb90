// The relabel actions Prometheus accepts (Promtail's relabel_configs and Alloy's rule blocks take
// the same): the chart's values schema allows them, and cfmon's log agent checks read them from
// jsonnet/generated/conventions.json.
{
  actions: ['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'keepequal', 'dropequal', 'lowercase', 'uppercase'],
}
