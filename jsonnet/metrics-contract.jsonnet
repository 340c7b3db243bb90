// The application metrics contract (name -> type, labels), read by the conformance/selectors check
// as the sample of the platform's own services: they expose what the contract says.
(import '../../jsonnet/lib/metrics.libsonnet').application
