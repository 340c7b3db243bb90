// The application metrics contract (name -> type, unit, labels), evaluated by `cfmon check`
// (conformance/selectors): the platform's services expose what it declares, so it stands as
// their exporter sample.
(import 'lib/metrics.libsonnet').application
